# slip: the patch matrix is made with torch.zeros and no dtype, so float64 inputs meet a float32 buffer
# loses: test_multi_dtype
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    patches = torch.zeros((out_h * out_w, c_in * kh * kw))
    for i in range(out_h):
        for j in range(out_w):
            patches[i * out_w + j] = X[:, i : i + kh, j : j + kw].reshape(-1)
    return (patches @ K.reshape(c_out, -1).T).T.reshape(c_out, out_h, out_w)

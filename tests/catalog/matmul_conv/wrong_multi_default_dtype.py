# catches: test_multi_dtype
# tag: test_multi_dtype: float32-buffer
# Fills a patch matrix made with torch.zeros and no dtype, and casts the weights to match: float64 becomes float32.
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
    return (patches @ K.reshape(c_out, -1).T.float()).T.reshape(c_out, out_h, out_w)

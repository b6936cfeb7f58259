# slip: the patch matrix is made with torch.zeros and no dtype, so float64 inputs meet a float32 buffer
# loses: test_matmul_dtype
# Issue 10: this used to cost the dtype cell and the float64 gradient check.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    patches = torch.zeros((out_h * out_w, kh * kw))
    for i in range(out_h):
        for j in range(out_w):
            patches[i * out_w + j] = X[i : i + kh, j : j + kw].reshape(-1)
    return (patches @ K.reshape(-1)).reshape(out_h, out_w)

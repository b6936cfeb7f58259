# slip: im2col with a patch matrix made by torch.zeros (float32): float64 inputs crash in the matrix product
# loses: test_dtype
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    patches = torch.zeros((out_h * out_w, kh * kw))
    for i in range(out_h):
        for j in range(out_w):
            patches[i * out_w + j] = X[i : i + kh, j : j + kw].reshape(-1)
    return (patches @ K.reshape(-1)).reshape(out_h, out_w)

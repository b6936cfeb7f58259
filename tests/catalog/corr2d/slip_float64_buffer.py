# slip: the output buffer is always float64 ("to be precise"): float32 inputs give a float64 output
# loses: test_dtype
# message: test_dtype: expected dtype torch.float32, got torch.float64
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros((h - kh + 1, w - kw + 1), dtype=torch.float64)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y

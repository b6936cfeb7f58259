# catches: test_dtype, test_values
# Integer output buffer: every window sum is truncated towards zero.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros((h - kh + 1, w - kw + 1), dtype=torch.int64)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y

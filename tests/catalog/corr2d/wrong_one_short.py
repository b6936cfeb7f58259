# catches: test_textbook, test_shape, test_values
# Off by one: range(h - kh) drops the last row and column of the output.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros((h - kh, w - kw), dtype=X.dtype)
    for i in range(h - kh):
        for j in range(w - kw):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y

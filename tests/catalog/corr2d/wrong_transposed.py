# catches: test_textbook, test_shape, test_values
# Mixes up rows and columns: the loops fill Y[j, i].
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros((w - kw + 1, h - kh + 1), dtype=X.dtype)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            Y[j, i] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y

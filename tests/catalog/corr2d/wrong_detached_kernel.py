# catches: test_gradients
# Converts the kernel to a list of numbers first: only X receives a gradient.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    weights = K.tolist()
    Y = torch.zeros((h - kh + 1, w - kw + 1), dtype=X.dtype)
    for a in range(kh):
        for b in range(kw):
            Y = Y + weights[a][b] * X[a : a + h - kh + 1, b : b + w - kw + 1]
    return Y

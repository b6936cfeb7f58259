# catches: test_shape, test_values
# Assumes square inputs and kernels: only the first dimension is read.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    n = X.shape[0]
    k = K.shape[0]
    Y = torch.zeros((n - k + 1, n - k + 1), dtype=X.dtype)
    for i in range(n - k + 1):
        for j in range(n - k + 1):
            Y[i, j] = (X[i : i + k, j : j + k] * K).sum()
    return Y

# catches: test_no_mutation, test_gradients
# Saves memory by writing the output into the top-left corner of X. The values
# come out right (each input is read before it is overwritten), but the
# caller's X is destroyed.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = X[: h - kh + 1, : w - kw + 1]
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y

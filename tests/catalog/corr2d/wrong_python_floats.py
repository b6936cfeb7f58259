# catches: test_gradients, test_dtype
# Builds the result from Python floats: no autograd graph, and always float32.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    rows = []
    for i in range(h - kh + 1):
        rows.append([float((X[i : i + kh, j : j + kw] * K).sum()) for j in range(w - kw + 1)])
    return torch.tensor(rows)

# Rows of window sums built with comprehensions and stacked (stays differentiable).
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    rows = []
    for i in range(X.shape[0] - kh + 1):
        row = [(X[i : i + kh, j : j + kw] * K).sum() for j in range(X.shape[1] - kw + 1)]
        rows.append(torch.stack(row))
    return torch.stack(rows)

# Shift-and-add: one shifted copy of X per kernel entry, weighted and summed.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    terms = [K[a, b] * X[a : a + out_h, b : b + out_w] for a in range(kh) for b in range(kw)]
    return torch.stack(terms).sum(dim=0)

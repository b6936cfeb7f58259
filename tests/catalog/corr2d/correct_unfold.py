# All windows at once with Tensor.unfold, then a broadcast product and a sum.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)  # (out_h, out_w, kh, kw)
    return (windows * K).sum(dim=(-2, -1))

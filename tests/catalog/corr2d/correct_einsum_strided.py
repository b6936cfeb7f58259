# Windows as a strided view of X, contracted with K by einsum.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    X = X.contiguous()
    s0, s1 = X.stride()
    windows = X.as_strided((h - kh + 1, w - kw + 1, kh, kw), (s0, s1, s0, s1))
    return torch.einsum("ijab,ab->ij", windows, K)

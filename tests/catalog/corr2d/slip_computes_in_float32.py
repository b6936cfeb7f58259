# slip: computes in float32 "to avoid dtype errors" and casts back: float64 values lose their precision
# loses: test_dtype
# message: test_dtype: only to float32 precision
# tag: test_dtype: computed-in-float32
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    Xf, Kf = X.float(), K.float()
    kh, kw = K.shape
    windows = Xf.unfold(0, kh, 1).unfold(1, kw, 1)
    return (windows * Kf).sum(dim=(-2, -1)).to(X.dtype)

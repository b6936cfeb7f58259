# slip: squeezes the result: an output with a dimension of size 1 loses that dimension
# loses: test_shape
# message: test_shape: expected shape (1, 1), got ()
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)
    return (windows * K).sum(dim=(-2, -1)).squeeze()

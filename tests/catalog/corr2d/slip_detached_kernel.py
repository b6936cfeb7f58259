# slip: treats the kernel as a constant (K.detach()): only X receives a gradient
# loses: test_gradients
# message: test_gradients: no gradient reached K
# tag: test_gradients: detached-kernel
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    K = K.detach()
    kh, kw = K.shape
    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))

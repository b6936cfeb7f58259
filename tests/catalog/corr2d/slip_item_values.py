# slip: fills the right buffer with .item() values: right values and dtype, but no autograd graph
# loses: test_gradients
# message: test_gradients: does not require grad
# tag: test_gradients: python-floats
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    Y = X.new_zeros((h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum().item()
    return Y

# slip: computes with NumPy and converts back: right values and dtype, not differentiable
# loses: test_gradients
# message: test_gradients: does not require grad
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    import numpy as np

    x, k = X.detach().numpy(), K.detach().numpy()
    kh, kw = k.shape
    y = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1), dtype=x.dtype)
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] = (x[i : i + kh, j : j + kw] * k).sum()
    return torch.from_numpy(y)

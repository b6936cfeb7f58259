# slip (real code): computes with NumPy, X.numpy() without detach(): right values and dtype, but it
# raises on inputs that require grad; differentiability is the gradient cell's requirement only
# loses: test_gradients
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    import numpy as np

    x, k = X.numpy(), K.numpy()
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1), dtype=x.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * k)
    return torch.from_numpy(out)

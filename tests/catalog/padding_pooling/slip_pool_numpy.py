# slip (real code): NumPy without detach(): right values, but it raises on an X that requires grad
# loses: test_pool_gradient
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    import numpy as np

    s = stride or kernel_size
    x = X.numpy()
    h, w = x.shape
    out = np.empty(((h - kernel_size) // s + 1, (w - kernel_size) // s + 1), dtype=x.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = x[i * s : i * s + kernel_size, j * s : j * s + kernel_size].max()
    return torch.from_numpy(out)

# catches: test_pool_gradient
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    s = stride or kernel_size
    h, w = X.shape
    rows = (h - kernel_size) // s + 1
    cols = (w - kernel_size) // s + 1
    Y = torch.zeros(rows, cols, dtype=X.dtype)
    for i in range(rows):
        for j in range(cols):
            Y[i, j] = X[i * s : i * s + kernel_size, j * s : j * s + kernel_size].max().item()
    return Y

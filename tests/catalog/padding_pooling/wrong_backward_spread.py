# catches: test_backward_values, test_backward_overlapping
# tag: test_backward_values: gradient-spread
# cell: max_pool2d_backward
def max_pool2d_backward(X: torch.Tensor, G: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    s = stride or kernel_size
    dX = torch.zeros_like(X)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            dX[i * s : i * s + kernel_size, j * s : j * s + kernel_size] += G[i, j] / kernel_size**2
    return dX

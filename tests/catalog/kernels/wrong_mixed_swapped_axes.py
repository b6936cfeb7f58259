# rows are x and columns y: the transposed kernel
# catches: test_mixed_shape, test_mixed_values
# tag: test_mixed_shape: swapped-axes
# cell: mixed_partial_kernel
def mixed_partial_kernel(a: int, b: int) -> torch.Tensor:
    return torch.outer(derivative_kernel(a).reshape(-1), derivative_kernel(b).reshape(-1))

# adds the two 1-D kernels (as for the Laplacian) instead of multiplying them
# catches: test_mixed_values
# cell: mixed_partial_kernel
def mixed_partial_kernel(a: int, b: int) -> torch.Tensor:
    return derivative_kernel(b).reshape(-1, 1) + derivative_kernel(a).reshape(1, -1)

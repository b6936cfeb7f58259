# catches: test_laplacian_values
# message: test_laplacian_values: expected 4 everywhere
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    K = torch.zeros(3, 3)
    K[1] = derivative_kernel(2)[0]
    K[1, 1] = -4.0
    return K

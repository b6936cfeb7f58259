# catches: test_laplacian_values
# tag: test_laplacian_values: one-axis-only
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    # the second difference along the rows
    K = torch.zeros(3, 3)
    K[1] = derivative_kernel(2)[0]
    return K

# catches: test_laplacian_values
# tag: test_laplacian_values: outer-product-laplacian
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    second = derivative_kernel(2)
    return second.T @ second

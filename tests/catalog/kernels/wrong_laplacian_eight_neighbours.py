# catches: test_laplacian_values
# tag: test_laplacian_values: eight-neighbour-laplacian
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    K = torch.ones(3, 3)
    K[1, 1] = -8.0
    return K

# catches: test_laplacian_values
# tag: test_laplacian_values: negated-laplacian
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    return torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])

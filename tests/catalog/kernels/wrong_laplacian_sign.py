# catches: test_laplacian_values
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    return torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])

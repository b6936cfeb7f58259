# slip: an int32 Laplacian with the right entries
# loses: test_laplacian_dtype
# tag: test_laplacian_dtype: integer-kernel
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    return torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.int32)

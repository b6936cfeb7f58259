# slip: a float64 Laplacian built from the second difference, right in every other respect
# loses: test_laplacian_dtype
# message: test_laplacian_dtype: expected dtype torch.float32, got torch.float64
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    second = derivative_kernel(2).double()
    K = torch.zeros(3, 3, dtype=torch.float64)
    K[1] = K[1] + second[0]
    K[:, 1] = K[:, 1] + second[0]
    return K

# slip: the Laplacian returned as an F.conv2d weight of shape (1, 1, 3, 3), exact values
# loses: test_laplacian_shape
# message: test_laplacian_shape: expected shape (3, 3), got (1, 1, 3, 3)
# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    K = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    return K[None, None]  # ready for F.conv2d

# catches: test_shape
# tag: test_shape: column-kernel
# message: test_shape: expected shape (1, 2), got (2, 1)
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    K = torch.tensor([1.0])
    for _ in range(d):
        K = torch.cat([-K, torch.zeros(1)]) + torch.cat([torch.zeros(1), K])
    return K.reshape(-1, 1)

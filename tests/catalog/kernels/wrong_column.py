# catches: test_shape, test_higher_differences
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    K = torch.tensor([1.0])
    for _ in range(d):
        K = torch.cat([-K, torch.zeros(1)]) + torch.cat([torch.zeros(1), K])
    return K.reshape(-1, 1)

# slip: d = 0 handled as a special case that returns a 1-D tensor; every other d is right
# loses: test_shape
# message: test_shape: derivative_kernel(0): expected shape (1, 1), got (1,)
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be >= 0")
    if d == 0:
        return torch.ones(1)
    K = torch.tensor([[-1.0, 1.0]])
    for _ in range(d - 1):
        K = torch.cat([-K, torch.zeros(1, 1)], dim=1) + torch.cat([torch.zeros(1, 1), K], dim=1)
    return K

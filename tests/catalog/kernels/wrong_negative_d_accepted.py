# catches: test_negative_order
# message: test_negative_order: expected ValueError
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    K = torch.ones(1, 1)
    for _ in range(d):
        K = torch.cat([-K, torch.zeros(1, 1)], dim=1) + torch.cat([torch.zeros(1, 1), K], dim=1)
    return K

# slip: recursion whose base case is d = 1, so d = 0 recurses into d = -1 and raises; exact for d = 1..6
# loses: test_zero_order
# message: test_zero_order: no difference of order -1
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError(f"no difference of order {d}")
    if d == 1:
        return torch.tensor([[-1.0, 1.0]])
    previous = derivative_kernel(d - 1)[0]
    # Delta^d f(x) = Delta^(d-1) f(x + 1) - Delta^(d-1) f(x)
    return (torch.cat([torch.zeros(1), previous]) - torch.cat([previous, torch.zeros(1)]))[None]

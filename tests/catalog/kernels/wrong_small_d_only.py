# catches: test_higher_differences
# message: test_higher_differences: derivative_kernel(4)
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    # pattern from [-1, 1], [1, -2, 1], [-1, 3, -3, 1]: ends are +-1, the inside is +-d
    values = [(-1) ** (d - k) * (1 if k in (0, d) else d) for k in range(d + 1)]
    return torch.tensor([values], dtype=torch.float32)

# catches: test_higher_differences
# message: test_higher_differences: derivative_kernel(5)
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be >= 0")
    # the rows worked out by hand in the chapter; beyond them, alternate +-d inside
    table = {0: [1], 1: [-1, 1], 2: [1, -2, 1], 3: [-1, 3, -3, 1], 4: [1, -4, 6, -4, 1]}
    row = table.get(d) or [(-1) ** (d - k) * (1 if k in (0, d) else d) for k in range(d + 1)]
    return torch.tensor([row], dtype=torch.float32)

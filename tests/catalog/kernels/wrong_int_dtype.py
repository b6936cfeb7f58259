# catches: test_dtype
# tag: test_dtype: integer-kernel
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    return torch.tensor([[(-1) ** (d - k) * math.comb(d, k) for k in range(d + 1)]])

# slip: a column (d + 1, 1) instead of a row, with the right entries
# loses: test_shape
# tag: test_shape: column-kernel
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be >= 0")
    return torch.tensor([[(-1.0) ** (d - k) * math.comb(d, k)] for k in range(d + 1)])

# catches: test_first_differences
# tag: test_first_differences: flipped-kernel
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    # convolution convention: [1, -1] for the first derivative
    return torch.tensor([[(-1.0) ** k * math.comb(d, k) for k in range(d + 1)]])

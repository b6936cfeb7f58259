# catches: test_shape, test_first_differences
# tag: test_shape: centred-difference
# tag: test_first_differences: centred-difference
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be non-negative")
    # centred differences: f(x + 1) - f(x - 1) over 2, applied d times
    K = torch.zeros(1, 2 * d + 1)
    for k in range(d + 1):
        K[0, 2 * k] = (-1) ** (d - k) * math.comb(d, k) / 2**d
    return K

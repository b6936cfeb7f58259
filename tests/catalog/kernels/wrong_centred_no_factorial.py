# catches: test_centred_values
# tag: test_centred_values: missing-factorial
# cell: centred_kernel
def centred_kernel(d: int, m: int) -> torch.Tensor:
    if d < 0 or m < 0 or 2 * m < d:
        raise ValueError("too few taps")
    offsets = torch.arange(-m, m + 1, dtype=torch.float64)
    V = torch.stack([offsets**q for q in range(2 * m + 1)])
    rhs = torch.zeros(2 * m + 1, dtype=torch.float64)
    rhs[d] = 1.0
    return torch.linalg.solve(V, rhs)[None]

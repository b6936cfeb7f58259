# slip: checks with assert (AssertionError, not ValueError)
# loses: test_centred_refuses
# cell: centred_kernel
def centred_kernel(d: int, m: int) -> torch.Tensor:
    assert d >= 0 and m >= 0 and 2 * m + 1 >= d + 1, "too few taps"
    offsets = torch.arange(-m, m + 1, dtype=torch.float64)
    V = torch.stack([offsets**q for q in range(2 * m + 1)])
    rhs = torch.zeros(2 * m + 1, dtype=torch.float64)
    rhs[d] = math.factorial(d)
    return torch.linalg.solve(V, rhs)[None]

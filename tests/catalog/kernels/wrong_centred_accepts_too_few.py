# least squares on a system with too few taps: returns a kernel instead of refusing
# catches: test_centred_refuses
# message: test_centred_refuses: expected ValueError
# cell: centred_kernel
def centred_kernel(d: int, m: int) -> torch.Tensor:
    offsets = torch.arange(-m, m + 1, dtype=torch.float64)
    V = torch.stack([offsets**q for q in range(max(2 * m + 1, d + 1))])
    rhs = torch.zeros(V.shape[0], 1, dtype=torch.float64)
    rhs[max(d, 0), 0] = math.factorial(max(d, 0))
    return torch.linalg.lstsq(V, rhs).solution.T

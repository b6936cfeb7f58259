# slip: refuses a negative d with assert (AssertionError) instead of ValueError
# loses: test_negative_order
# message: test_negative_order: got AssertionError
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    assert d >= 0, "d must be non-negative"
    return torch.tensor([[(-1.0) ** (d - k) * math.comb(d, k) for k in range(d + 1)]])

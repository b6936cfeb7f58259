# slip: a float64 kernel (the values are right)
# loses: test_mixed_shape
# cell: mixed_partial_kernel
def mixed_partial_kernel(a: int, b: int) -> torch.Tensor:
    return torch.outer(derivative_kernel(b).reshape(-1).double(), derivative_kernel(a).reshape(-1).double())

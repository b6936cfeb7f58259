# slip: the kernel of the convolution (flipped), right in every other respect
# loses: test_first_differences
# tag: test_first_differences: flipped-kernel
# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("negative order")
    # (f * K)(x) = sum_k K[k] f(x - k): the textbook convolution kernel of the d-th difference
    return torch.diff(torch.eye(d + 1), n=d, dim=0).flip(-1)

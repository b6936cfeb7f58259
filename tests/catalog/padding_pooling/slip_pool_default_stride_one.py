# slip: the stride defaults to 1 instead of the kernel size
# loses: test_pool_shape
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int = 1) -> torch.Tensor:
    windows = X.unfold(0, kernel_size, stride).unfold(1, kernel_size, stride)
    return windows.amax(dim=(2, 3))

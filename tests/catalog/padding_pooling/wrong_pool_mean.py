# catches: test_pool_values, test_pool_overlapping
# tag: test_pool_values: average-not-max
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    s = stride or kernel_size
    return X.unfold(0, kernel_size, s).unfold(1, kernel_size, s).mean(dim=(2, 3))

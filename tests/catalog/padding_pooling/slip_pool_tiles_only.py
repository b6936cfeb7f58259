# slip: windows must tile the image: a crash on leftover rows or columns (the shape cell's business)
# loses: test_pool_shape
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    s = stride or kernel_size
    h, w = X.shape
    if (h - kernel_size) % s or (w - kernel_size) % s:
        raise ValueError("the windows do not tile X")
    return X.unfold(0, kernel_size, s).unfold(1, kernel_size, s).amax(dim=(2, 3))

# a reshape into tiles: only windows that tile the image exactly, never overlapping ones
# catches: test_pool_shape, test_pool_overlapping
# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    h, w = X.shape
    k = kernel_size
    return X.reshape(h // k, k, w // k, k).amax(dim=(1, 3))

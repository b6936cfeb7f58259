# slip: refuses an impossible size, with the wrong exception
# loses: test_output_size_refuses
# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    free = n + 2 * padding - dilation * (kernel_size - 1) - 1
    if free < 0:
        raise RuntimeError("kernel does not fit")
    return free // stride + 1

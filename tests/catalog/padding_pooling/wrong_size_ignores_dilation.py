# catches: test_output_size
# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    if kernel_size > n + 2 * padding:
        raise ValueError("kernel too large")
    return (n + 2 * padding - kernel_size) // stride + 1

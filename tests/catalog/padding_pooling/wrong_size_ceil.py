# catches: test_output_size
# tag: test_output_size: ceil-not-floor
# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    span = dilation * (kernel_size - 1) + 1
    if span > n + 2 * padding:
        raise ValueError("kernel too large")
    return math.ceil((n + 2 * padding - span) / stride) + 1

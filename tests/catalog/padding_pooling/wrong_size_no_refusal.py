# catches: test_output_size_refuses
# message: test_output_size_refuses: expected ValueError
# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    return max(0, (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1)

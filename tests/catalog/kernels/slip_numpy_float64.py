# slip: built with numpy, so the kernel is float64; right in every other respect
# loses: test_dtype
# message: test_dtype: expected dtype torch.float32, got torch.float64
# cell: derivative_kernel
import numpy as np


def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError("d must be >= 0")
    row = np.array([1.0])
    for _ in range(d):
        row = np.convolve(row, [1.0, -1.0])  # coefficients of (z - 1)**d, highest power first
    return torch.from_numpy(row[::-1].copy())[None]

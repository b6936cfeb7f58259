# catches: test_matmul_one_matmul
# Skips the matrix multiplication and calls the built-in convolution.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]

# catches: test_multi_one_matmul
# tag: test_multi_one_matmul: builtin-convolution
# Calls the built-in convolution.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    return F.conv2d(X[None], K)[0]

# catches: test_kernel_matrix_no_conv
# Reads W off the built-in convolution of every basis image.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    n = in_h * in_w
    basis = torch.eye(n, dtype=K.dtype).reshape(n, 1, in_h, in_w)
    return F.conv2d(basis, K[None, None]).reshape(n, -1).T

# slip: scatters the weights into torch.zeros made without a dtype, which fails for a float64 K
# loses: test_kernel_matrix_dtype
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    starts = (torch.arange(out_h)[:, None] * in_w + torch.arange(out_w)[None, :]).reshape(-1, 1)
    offsets = (torch.arange(kh)[:, None] * in_w + torch.arange(kw)[None, :]).reshape(1, -1)
    W = torch.zeros((out_h * out_w, in_h * in_w))
    return W.scatter(1, starts + offsets, K.reshape(1, -1).expand(out_h * out_w, -1))

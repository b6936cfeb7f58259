# catches: test_kernel_matrix_dtype
# torch.zeros without a dtype: a float64 kernel gives a float32 W.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    W = torch.zeros((out_h * out_w, in_h * in_w))
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                W[i * out_w + j, (i + a) * in_w + j : (i + a) * in_w + j + kw] = K[a]
    return W

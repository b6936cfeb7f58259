# slip: fills W with Python numbers from K.tolist(): right values, but no gradient reaches K
# loses: test_kernel_matrix_gradients
# message: test_kernel_matrix_gradients: W does not require grad
# tag: test_kernel_matrix_gradients: python-floats
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    k = K.tolist()
    W = torch.zeros((out_h * out_w, in_h * in_w), dtype=K.dtype)
    for r in range(out_h * out_w):
        i, j = divmod(r, out_w)
        for a in range(kh):
            for b in range(kw):
                W[r, (i + a) * in_w + (j + b)] = k[a][b]
    return W

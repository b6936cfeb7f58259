# catches: test_kernel_matrix_product
# Places the flipped kernel: the matrix of a true convolution. Its zeros and tied weights are right,
# so test_kernel_matrix_structure (which used to charge it too) no longer does.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    W = torch.zeros((out_h * out_w, in_h * in_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                for b in range(kw):
                    W[i * out_w + j, (i + a) * in_w + (j + b)] = K[kh - 1 - a, kw - 1 - b]
    return W

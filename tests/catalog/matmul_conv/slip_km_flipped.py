# slip: places the flipped kernel, the matrix of the true convolution; zeros and tied weights are right
# loses: test_kernel_matrix_product
# tag: test_kernel_matrix_product: flipped-kernel
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    flipped = K.flip(0, 1)
    W = K.new_zeros((out_h * out_w, in_h * in_w))
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                W[i * out_w + j, (i + a) * in_w + j : (i + a) * in_w + j + kw] = flipped[a]
    return W

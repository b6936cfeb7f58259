# catches: test_kernel_matrix_product, test_kernel_matrix_structure
# Numbers the output positions column by column (j * out_h + i).
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    W = torch.zeros((out_h * out_w, in_h * in_w), dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            image = torch.zeros((in_h, in_w), dtype=K.dtype)
            image[i : i + kh, j : j + kw] = K
            W[j * out_h + i] = image.reshape(-1)
    return W

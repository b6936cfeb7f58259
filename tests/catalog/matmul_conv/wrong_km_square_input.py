# catches: test_kernel_matrix_shape, test_kernel_matrix_product, test_kernel_matrix_structure
# Assumes a square input and kernel: only input_shape[0] and K.shape[0] are read.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    n = input_shape[0]
    k = K.shape[0]
    m = n - k + 1
    W = torch.zeros((m * m, n * n), dtype=K.dtype)
    for i in range(m):
        for j in range(m):
            for a in range(k):
                for b in range(k):
                    W[i * m + j, (i + a) * n + (j + b)] = K[a, b]
    return W

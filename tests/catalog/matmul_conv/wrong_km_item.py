# catches: test_kernel_matrix_gradients
# tag: test_kernel_matrix_gradients: python-floats
# Issue 10's weak spot: W filled with K[a, b].item() has the right values, but K cannot learn through it.
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
                    W[i * out_w + j, (i + a) * in_w + (j + b)] = K[a, b].item()
    return W

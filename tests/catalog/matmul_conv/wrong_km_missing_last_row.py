# catches: test_kernel_matrix_shape, test_kernel_matrix_product
# Off by one in the number of output positions: the last row of W is missing.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    rows = []
    for r in range(out_h * out_w - 1):
        i, j = divmod(r, out_w)
        row = torch.zeros((in_h, in_w), dtype=K.dtype)
        row[i : i + kh, j : j + kw] = K
        rows.append(row.reshape(-1))
    return torch.stack(rows)

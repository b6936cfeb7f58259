# catches: test_matmul_shapes, test_matmul_values
# Uses h for both sides of the input: works only for square X.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    n = X.shape[0]
    kh, kw = K.shape
    out_h, out_w = n - kh + 1, n - kw + 1
    rows = [X[i : i + kh, j : j + kw].reshape(-1) for i in range(out_h) for j in range(out_w)]
    return (torch.stack(rows) @ K.reshape(-1)).reshape(out_h, out_w)

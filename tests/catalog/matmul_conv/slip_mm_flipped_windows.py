# slip: flips every window before flattening it, which computes the true convolution
# loses: test_matmul_values
# tag: test_matmul_values: flipped-kernel
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    rows = [X[i : i + kh, j : j + kw].flip(0, 1).reshape(-1) for i in range(out_h) for j in range(out_w)]
    return (torch.stack(rows) @ K.reshape(-1)).reshape(out_h, out_w)

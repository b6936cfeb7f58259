# slip: one matrix multiplication per output row instead of one for the whole patch matrix
# loses: test_matmul_one_matmul
# message: test_matmul_one_matmul: expected exactly one matrix multiplication, counted 4 (mv)
# tag: test_matmul_one_matmul: several-matmuls
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    k = K.reshape(-1)
    rows = []
    for i in range(out_h):
        patches = torch.stack([X[i : i + kh, j : j + kw].reshape(-1) for j in range(out_w)])
        rows.append(patches @ k)
    return torch.stack(rows)

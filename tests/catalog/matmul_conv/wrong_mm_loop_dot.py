# catches: test_matmul_one_matmul
# One dot product per output position instead of one matrix multiplication.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    k = K.reshape(-1)
    rows = []
    for i in range(h - kh + 1):
        rows.append(torch.stack([X[i : i + kh, j : j + kw].reshape(-1) @ k for j in range(w - kw + 1)]))
    return torch.stack(rows)

# catches: test_matmul_gradients
# Builds the patch matrix from X.tolist(): the values are right, but no gradient reaches X.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    x = X.tolist()
    rows = [[x[i + a][j + b] for a in range(kh) for b in range(kw)] for i in range(out_h) for j in range(out_w)]
    patches = torch.tensor(rows, dtype=X.dtype)
    return (patches @ K.reshape(-1)).reshape(out_h, out_w)

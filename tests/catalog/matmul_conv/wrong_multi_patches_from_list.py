# catches: test_multi_gradients
# Builds the patch matrix from X.tolist(): the values are right, but no gradient reaches X.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    x = X.tolist()
    rows = [
        [x[c][i + a][j + b] for c in range(c_in) for a in range(kh) for b in range(kw)]
        for i in range(out_h)
        for j in range(out_w)
    ]
    patches = torch.tensor(rows, dtype=X.dtype)
    return (patches @ K.reshape(c_out, -1).T).T.reshape(c_out, out_h, out_w)

# catches: test_multi_values
# Reads K as (c_in, c_out, kh, kw): crashes unless c_in == c_out, and then mixes up the channels.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    _, c_out, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    rows = [X[:, i : i + kh, j : j + kw].reshape(-1) for i in range(out_h) for j in range(out_w)]
    weights = K.transpose(0, 1).reshape(c_out, -1)
    return (torch.stack(rows) @ weights.T).T.reshape(c_out, out_h, out_w)

# catches: test_multi_values
# Only the first input channel: the windows of the other channels are left out.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_out, c_in, kh, kw = K.shape
    out_h, out_w = X.shape[1] - kh + 1, X.shape[2] - kw + 1
    patches = X[0].unfold(0, kh, 1).unfold(1, kw, 1).reshape(out_h * out_w, kh * kw)
    return (patches @ K[:, 0].reshape(c_out, -1).T).T.reshape(c_out, out_h, out_w)

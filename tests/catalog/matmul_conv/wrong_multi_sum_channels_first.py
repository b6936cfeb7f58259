# catches: test_multi_values
# tag: test_multi_values: channels-summed-first
# Sums the input channels and the kernels' input channels first, then does a one-channel im2col.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_out, c_in, kh, kw = K.shape
    x = X.sum(0)
    out_h, out_w = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    patches = x.unfold(0, kh, 1).unfold(1, kw, 1).reshape(out_h * out_w, kh * kw)
    return (patches @ K.sum(1).reshape(c_out, -1).T).T.reshape(c_out, out_h, out_w)

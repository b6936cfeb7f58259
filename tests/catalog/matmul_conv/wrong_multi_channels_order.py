# catches: test_multi_values
# tag: test_multi_values: channels-order
# The patch columns put the channel innermost (a, b, c), the weights K.reshape(c_out, -1) outermost (c, a, b).
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    windows = X.unfold(1, kh, 1).unfold(2, kw, 1)  # (c_in, out_h, out_w, kh, kw)
    patches = windows.permute(1, 2, 3, 4, 0).reshape(out_h * out_w, -1)
    return (patches @ K.reshape(c_out, -1).T).T.reshape(c_out, out_h, out_w)

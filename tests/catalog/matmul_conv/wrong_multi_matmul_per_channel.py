# catches: test_multi_one_matmul
# tag: test_multi_one_matmul: several-matmuls
# One patch matrix and one matrix multiplication per input channel, summed.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    Y = 0
    for c in range(c_in):
        patches = X[c].unfold(0, kh, 1).unfold(1, kw, 1).reshape(out_h * out_w, kh * kw)
        Y = Y + patches @ K[:, c].reshape(c_out, -1).T
    return Y.T.reshape(c_out, out_h, out_w)

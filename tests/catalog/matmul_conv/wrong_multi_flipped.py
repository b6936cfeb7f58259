# catches: test_multi_values
# tag: test_multi_values: flipped-kernel
# Flips every kernel (the true convolution).
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_out, c_in, kh, kw = K.shape
    out_h, out_w = X.shape[1] - kh + 1, X.shape[2] - kw + 1
    columns = F.unfold(X[None], (kh, kw))[0]
    return (K.flip(2, 3).reshape(c_out, -1) @ columns).reshape(c_out, out_h, out_w)

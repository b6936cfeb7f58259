# slip: returns the product of shape (out_h * out_w, c_out) as it is
# loses: test_multi_shapes
# tag: test_multi_shapes: product-not-reshaped
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    windows = X.unfold(1, kh, 1).unfold(2, kw, 1)  # (c_in, out_h, out_w, kh, kw)
    patches = windows.permute(1, 2, 0, 3, 4).reshape(-1, c_in * kh * kw)
    return patches @ K.reshape(c_out, -1).T

# catches: test_matmul_shapes
# Reshapes the product to (out_w, out_h): the values, read in row-major order, are right; the shape is not.
# (It used to lose test_matmul_values too: one slip, one charge now.)
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    patches = X.unfold(0, kh, 1).unfold(1, kw, 1).reshape(out_h * out_w, kh * kw)
    return (patches @ K.reshape(-1)).reshape(out_w, out_h)

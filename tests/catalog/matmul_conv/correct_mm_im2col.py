# torch.nn.functional.unfold (im2col) gives the patches as columns; the kernel row multiplies them.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    columns = torch.nn.functional.unfold(X[None, None], (kh, kw))[0]  # (kh * kw, out_h * out_w)
    return (K.reshape(1, kh * kw) @ columns).reshape(out_h, out_w)

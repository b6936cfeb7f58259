# Orders the patch columns (a, b, c), channel innermost, and permutes the weights the same way.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    windows = X.unfold(1, kh, 1).unfold(2, kw, 1)  # (c_in, out_h, out_w, kh, kw)
    patches = windows.permute(1, 2, 3, 4, 0).reshape(out_h * out_w, kh * kw * c_in)
    weights = K.permute(0, 2, 3, 1).reshape(c_out, kh * kw * c_in)
    return torch.mm(weights, patches.T).reshape(c_out, out_h, out_w)

# Index arithmetic: an integer index matrix picks every window entry of every channel from the flattened X.
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    starts = (torch.arange(out_h)[:, None] * w + torch.arange(out_w)[None, :]).reshape(-1, 1)
    offsets = (
        torch.arange(c_in)[:, None, None] * (h * w)
        + torch.arange(kh)[None, :, None] * w
        + torch.arange(kw)[None, None, :]
    ).reshape(1, -1)
    patches = X.reshape(-1)[starts + offsets]  # (out_h * out_w, c_in * kh * kw)
    return torch.einsum("pk,ok->op", patches, K.reshape(c_out, -1)).reshape(c_out, out_h, out_w)

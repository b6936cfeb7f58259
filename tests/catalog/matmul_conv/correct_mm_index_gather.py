# Index arithmetic: an integer index matrix picks every window entry from the flattened X.
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    starts = (torch.arange(out_h)[:, None] * w + torch.arange(out_w)[None, :]).reshape(-1, 1)
    offsets = (torch.arange(kh)[:, None] * w + torch.arange(kw)[None, :]).reshape(1, -1)
    patches = X.reshape(-1)[starts + offsets]  # (out_h * out_w, kh * kw)
    return torch.einsum("pk,k->p", patches, K.reshape(-1)).reshape(out_h, out_w)

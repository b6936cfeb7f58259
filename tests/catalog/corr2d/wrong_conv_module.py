# catches: test_no_builtin
# Hides the built-in convolution inside an nn.Conv2d whose weight is set to K.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    layer = nn.Conv2d(1, 1, kernel_size=tuple(K.shape), bias=False).to(X.dtype)
    del layer.weight
    layer.weight = K.reshape(1, 1, *K.shape)
    return layer(X.reshape(1, 1, *X.shape)).reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)

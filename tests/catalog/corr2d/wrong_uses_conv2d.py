# catches: test_no_builtin
# Calls PyTorch's own convolution, which the exercise forbids.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    from torch.nn.functional import conv2d

    return conv2d(X.unsqueeze(0).unsqueeze(0), K.unsqueeze(0).unsqueeze(0)).squeeze(0).squeeze(0)

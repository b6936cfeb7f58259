# slip: right in every respect, but computed by torch.conv2d, the built-in convolution
# loses: test_no_builtin
# message: test_no_builtin: ran the built-in convolution
# tag: test_no_builtin: builtin-convolution
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    return torch.conv2d(X[None, None], K[None, None])[0, 0]

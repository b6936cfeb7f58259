# slip: im2col with F.unfold, and the result keeps conv2d's batch and channel dimensions (1, 1, out_h, out_w)
# loses: test_shape
# message: test_shape: expected shape (2, 5), got (1, 1, 2, 5)
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    from torch.nn import functional as F

    h, w = X.shape
    kh, kw = K.shape
    columns = F.unfold(X[None, None], (kh, kw))  # (1, kh * kw, out_h * out_w)
    return (K.reshape(1, -1) @ columns).reshape(1, 1, h - kh + 1, w - kw + 1)

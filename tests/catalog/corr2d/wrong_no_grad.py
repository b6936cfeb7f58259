# catches: test_gradients
# Computes under torch.no_grad() "to be faster": no gradient reaches X or K.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    with torch.no_grad():
        return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))

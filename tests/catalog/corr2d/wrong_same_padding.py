# catches: test_textbook, test_shape, test_edges
# 'same' padding: zero-pads X so that the output keeps X's shape.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    padded = torch.zeros((h + kh - 1, w + kw - 1), dtype=X.dtype)
    padded[(kh - 1) // 2 : (kh - 1) // 2 + h, (kw - 1) // 2 : (kw - 1) // 2 + w] = X
    Y = torch.zeros((h, w), dtype=X.dtype)
    for i in range(h):
        for j in range(w):
            Y[i, j] = (padded[i : i + kh, j : j + kw] * K).sum()
    return Y

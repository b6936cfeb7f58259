# slip: the mathematician's convolution (kernel flipped): wrong values, everything else right
# loses: test_textbook, test_edges, test_values, test_edge_cases
# message: test_textbook: kernel flipped?
# tag: test_textbook: flipped-kernel
# tag: test_edges: flipped-kernel
# tag: test_values: flipped-kernel
# tag: test_edge_cases: flipped-kernel
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)
    return (windows * K.flip(0, 1)).sum(dim=(-2, -1))

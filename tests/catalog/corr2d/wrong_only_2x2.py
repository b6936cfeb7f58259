# catches: test_shape, test_values, test_edge_cases
# Written for the 2 x 2 kernel of the example only.
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    return K[0, 0] * X[: h - 1, : w - 1] + K[0, 1] * X[: h - 1, 1:] + K[1, 0] * X[1:, : w - 1] + K[1, 1] * X[1:, 1:]

# catches: test_no_builtin, test_no_mutation, test_textbook, test_values
# A stub that returns zeros of the right shape and dtype: it breaks no house rule,
# but it earns no house-rule points either, since its result ignores X and K.
# message: test_no_builtin: stays the same when X is doubled
# cell: corr2d
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    h, w = X.shape
    kh, kw = K.shape
    return X.new_zeros((h - kh + 1, w - kw + 1))

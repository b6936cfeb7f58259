# slip: d2l's own textbook code: the output buffer torch.zeros(...) is float32 whatever X's dtype
# loses: test_dtype
# message: test_dtype: expected dtype torch.float64, got torch.float32
# tag: test_dtype: float32-buffer
# cell: corr2d
def corr2d(X, K):  # @save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y

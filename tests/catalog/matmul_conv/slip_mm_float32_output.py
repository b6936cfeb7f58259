# slip: casts the result to float32 (.float()), whatever the inputs' dtype
# loses: test_matmul_dtype
# message: test_matmul_dtype: expected dtype torch.float64, got torch.float32
# tag: test_matmul_dtype: float32-buffer
# cell: corr2d_matmul
def corr2d_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation by one matmul: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    patches = X.unfold(0, kh, 1).unfold(1, kw, 1).reshape(out_h * out_w, kh * kw)
    return (patches @ K.reshape(-1)).reshape(out_h, out_w).float()

# slip: one matrix-vector product per output channel instead of one product with all the weights
# loses: test_multi_one_matmul
# message: test_multi_one_matmul: expected exactly one matrix multiplication, counted 3 (mv)
# tag: test_multi_one_matmul: several-matmuls
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    rows = [X[:, i : i + kh, j : j + kw].reshape(-1) for i in range(out_h) for j in range(out_w)]
    patches = torch.stack(rows)
    return torch.stack([(patches @ K[o].reshape(-1)).reshape(out_h, out_w) for o in range(c_out)])

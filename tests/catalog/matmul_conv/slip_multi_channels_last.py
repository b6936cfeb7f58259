# slip: reshapes the product to (out_h, out_w, c_out), channels last
# loses: test_multi_shapes
# tag: test_multi_shapes: channels-last
# cell: corr2d_multi_matmul
def corr2d_multi_matmul(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Multi-channel cross-correlation by one matmul: X (c_in, h, w), K (c_out, c_in, kh, kw) -> (c_out, out_h, out_w)."""
    c_in, h, w = X.shape
    c_out, _, kh, kw = K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    rows = [X[:, i : i + kh, j : j + kw].reshape(-1) for i in range(out_h) for j in range(out_w)]
    return (torch.stack(rows) @ K.reshape(c_out, -1).T).reshape(out_h, out_w, c_out)

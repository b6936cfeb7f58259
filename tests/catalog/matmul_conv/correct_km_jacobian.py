# The kernel matrix is the Jacobian of the (linear) cross-correlation with respect to X;
# create_graph=True keeps it differentiable with respect to K.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape

    def flat_corr2d(x: torch.Tensor) -> torch.Tensor:
        X = x.reshape(in_h, in_w)
        rows = [
            torch.stack([(X[i : i + kh, j : j + kw] * K).sum() for j in range(in_w - kw + 1)])
            for i in range(in_h - kh + 1)
        ]
        return torch.stack(rows).reshape(-1)

    return torch.autograd.functional.jacobian(flat_corr2d, torch.zeros(in_h * in_w, dtype=K.dtype), create_graph=True)

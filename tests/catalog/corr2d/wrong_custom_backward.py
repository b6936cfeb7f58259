# catches: test_gradients
# A hand-written autograd.Function: the forward pass is right, but the gradient
# with respect to X forgets to flip the kernel (it is a full convolution with
# the flipped kernel, not a cross-correlation with K).
# message: test_gradients: expected X.grad
# cell: corr2d
class _Corr2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, K):
        ctx.save_for_backward(X, K)
        kh, kw = K.shape
        return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))

    @staticmethod
    def backward(ctx, G):
        X, K = ctx.saved_tensors
        kh, kw = K.shape
        out_h, out_w = G.shape
        grad_K = (X.unfold(0, out_h, 1).unfold(1, out_w, 1) * G).sum(dim=(-2, -1))
        padded = G.new_zeros((out_h + 2 * (kh - 1), out_w + 2 * (kw - 1)))
        padded[kh - 1 : kh - 1 + out_h, kw - 1 : kw - 1 + out_w] = G
        grad_X = (padded.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))
        return grad_X, grad_K


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation: X (h, w), K (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    return _Corr2d.apply(X, K)

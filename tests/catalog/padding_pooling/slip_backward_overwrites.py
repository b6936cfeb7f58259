# slip: assigns instead of adding: right when windows do not overlap
# loses: test_backward_overlapping
# cell: max_pool2d_backward
def max_pool2d_backward(X: torch.Tensor, G: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    s = kernel_size if stride is None else stride
    windows = X.unfold(0, kernel_size, s).unfold(1, kernel_size, s)
    rows, cols = windows.shape[:2]
    best = windows.reshape(rows, cols, -1).argmax(dim=-1)
    dX = torch.zeros_like(X)
    for i in range(rows):
        for j in range(cols):
            a, b = divmod(int(best[i, j]), kernel_size)
            dX[i * s + a, j * s + b] = G[i, j]
    return dX

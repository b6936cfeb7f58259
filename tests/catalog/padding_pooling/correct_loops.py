# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """Count the windows one by one."""
    length = n + 2 * padding
    span = dilation * (kernel_size - 1) + 1
    if span > length:
        raise ValueError("the kernel does not fit")
    count, start = 0, 0
    while start + span <= length:
        count += 1
        start += stride
    return count


# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Loops over the windows, stacked into a tensor."""
    if stride is None:
        stride = kernel_size
    h, w = X.shape
    rows = []
    for i in range(0, h - kernel_size + 1, stride):
        row = []
        for j in range(0, w - kernel_size + 1, stride):
            row.append(X[i : i + kernel_size, j : j + kernel_size].max())
        rows.append(torch.stack(row))
    return torch.stack(rows)


# cell: max_pool2d_backward
def max_pool2d_backward(X: torch.Tensor, G: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Scan each window for its largest entry."""
    if stride is None:
        stride = kernel_size
    dX = torch.zeros_like(X)
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            best = None
            for a in range(kernel_size):
                for b in range(kernel_size):
                    r, c = i * stride + a, j * stride + b
                    if best is None or X[r, c] > X[best]:
                        best = (r, c)
            dX[best] += G[i, j]
    return dX


# cell: receptive_field
def receptive_field(layers: list[tuple[int, int, int, int]], n: int, position: int) -> torch.Tensor:
    """torch.autograd.grad on a stack of nn.Conv1d with weights set to 1, no bias."""
    net = torch.nn.Sequential(
        *[torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False) for k, s, p, d in layers]
    )
    for conv in net:
        torch.nn.init.ones_(conv.weight)
    X = torch.randn(1, 1, n).requires_grad_()
    (grad,) = torch.autograd.grad(net(X)[0, 0, position], X)
    return grad.reshape(n) != 0


# cell: receptive_field_size
def receptive_field_size(layers: list[tuple[int, int, int, int]]) -> int:
    """Backwards from the output: each layer widens the field by d (k - 1), times the strides below it."""
    size = 1
    for k, s, _, d in reversed(layers):
        size = (size - 1) * s + d * (k - 1) + 1
    return size

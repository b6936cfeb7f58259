# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """The formula with math.floor."""
    free = n + 2 * padding - dilation * (kernel_size - 1) - 1
    if free < 0:
        raise ValueError(f"no window fits: {free}")
    return math.floor(free / stride) + 1


# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """unfold twice, then the maximum of each window."""
    s = stride or kernel_size
    windows = X.unfold(0, kernel_size, s).unfold(1, kernel_size, s)
    return windows.reshape(*windows.shape[:2], -1).max(dim=-1).values


# cell: max_pool2d_backward
def max_pool2d_backward(X: torch.Tensor, G: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Arg-max of every window at once, then index_put_ with accumulate."""
    s = stride or kernel_size
    windows = X.unfold(0, kernel_size, s).unfold(1, kernel_size, s)
    rows, cols = windows.shape[:2]
    best = windows.reshape(rows, cols, -1).argmax(dim=-1)
    r = torch.arange(rows)[:, None] * s + best // kernel_size
    c = torch.arange(cols)[None, :] * s + best % kernel_size
    dX = torch.zeros_like(X)
    dX.index_put_((r.reshape(-1), c.reshape(-1)), G[:rows, :cols].reshape(-1), accumulate=True)
    return dX


# cell: receptive_field
def receptive_field(layers: list[tuple[int, int, int, int]], n: int, position: int) -> torch.Tensor:
    """backward() on a one-hot output gradient."""
    x = torch.zeros(1, 1, n, requires_grad=True)
    y = x
    for k, s, p, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    g = torch.zeros_like(y)
    g[0, 0, position] = 1.0
    y.backward(g)
    return x.grad.flatten() > 0


# cell: receptive_field_size
def receptive_field_size(layers: list[tuple[int, int, int, int]]) -> int:
    """The theorem with math.prod."""
    return 1 + sum(d * (k - 1) * math.prod(s for _, s, _, _ in layers[:i]) for i, (k, _, _, d) in enumerate(layers))

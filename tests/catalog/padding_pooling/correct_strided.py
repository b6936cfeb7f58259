# cell: conv_output_size
def conv_output_size(n: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """The number of valid start positions, by range."""
    last_start = n + 2 * padding - (kernel_size - 1) * dilation - 1
    if last_start < 0:
        raise ValueError("kernel larger than the padded input")
    return len(range(0, last_start + 1, stride))


# cell: max_pool2d
def max_pool2d(X: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Shifted strided views, combined with torch.maximum."""
    s = kernel_size if stride is None else stride
    h, w = X.shape
    out_h, out_w = (h - kernel_size) // s + 1, (w - kernel_size) // s + 1
    result = None
    for a in range(kernel_size):
        for b in range(kernel_size):
            view = X[a : a + s * (out_h - 1) + 1 : s, b : b + s * (out_w - 1) + 1 : s]
            result = view if result is None else torch.maximum(result, view)
    return result


# cell: max_pool2d_backward
def max_pool2d_backward(X: torch.Tensor, G: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    """Autograd through my own max pooling: the gradient of amax goes to the arg-max."""
    s = kernel_size if stride is None else stride
    Xg = X.detach().clone().requires_grad_(True)
    windows = Xg.unfold(0, kernel_size, s).unfold(1, kernel_size, s)
    Y = windows.amax(dim=(2, 3))
    (grad,) = torch.autograd.grad(Y, Xg, G)
    return grad


# cell: receptive_field
def receptive_field(layers: list[tuple[int, int, int, int]], n: int, position: int) -> torch.Tensor:
    """torch.autograd.functional.jacobian of the whole stack: row `position`."""

    def stack(x: torch.Tensor) -> torch.Tensor:
        y = x.reshape(1, 1, n)
        for k, s, p, d in layers:
            y = F.conv1d(y, torch.full((1, 1, k), 0.5, dtype=x.dtype), stride=s, padding=p, dilation=d)
        return y.reshape(-1)

    J = torch.autograd.functional.jacobian(stack, torch.rand(n, dtype=torch.float64))
    return J[position].abs() > 0


# cell: receptive_field_size
def receptive_field_size(layers: list[tuple[int, int, int, int]]) -> int:
    """Jumps accumulated first, then the sum."""
    jumps = [1]
    for _, s, _, _ in layers:
        jumps.append(jumps[-1] * s)
    return 1 + sum(d * (k - 1) * jumps[i] for i, (k, _, _, d) in enumerate(layers))

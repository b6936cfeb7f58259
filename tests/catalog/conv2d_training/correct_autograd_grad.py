# cell: Conv2D
class Conv2D(nn.Module):
    """Cross-correlation written with unfold: every window becomes a column."""

    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.kernel_size = tuple(kernel_size)
        self.weight = nn.Parameter(torch.zeros(self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))
        nn.init.uniform_(self.weight, -0.5, 0.5)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kernel_size
        windows = X.unfold(0, kh, 1).unfold(1, kw, 1)  # (out_h, out_w, kh, kw)
        return (windows * self.weight).sum(dim=(-2, -1)) + self.bias


# cell: train_conv2d
def train_conv2d(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
) -> tuple[Conv2D, list[float]]:
    net = Conv2D(kernel_size)
    params = [net.weight, net.bias]
    losses: list[float] = []
    for _ in range(num_epochs):
        loss = (net(X) - Y).pow(2).sum()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
        losses.append(loss.item())
    return net, losses

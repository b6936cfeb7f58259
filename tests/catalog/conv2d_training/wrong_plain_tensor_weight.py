# catches: test_parameters
# tag: test_parameters: unregistered-parameter
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = torch.rand(kernel_size, requires_grad=True)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return corr2d(X, self.weight) + self.bias


# cell: train_conv2d
def train_conv2d(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
) -> tuple[Conv2D, list[float]]:
    net = Conv2D(kernel_size)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            net.weight -= lr * net.weight.grad
            net.bias -= lr * net.bias.grad
            net.weight.grad.zero_()
            net.bias.grad.zero_()
        losses.append(loss.item())
    return net, losses

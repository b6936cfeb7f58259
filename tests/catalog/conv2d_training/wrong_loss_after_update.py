# catches: test_losses
# tag: test_losses: loss-after-update
# message: test_losses: is the loss after the update
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
        net.zero_grad()
        ((net(X) - Y) ** 2).sum().backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
            losses.append(((net(X) - Y) ** 2).sum().item())
    return net, losses

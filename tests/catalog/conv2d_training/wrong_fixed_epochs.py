# catches: test_losses
# tag: test_losses: ignores-num-epochs
# message: test_losses: expected 5 losses (one per epoch), got 10
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
    for i in range(10):
        loss = ((net(X) - Y) ** 2).sum()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(loss.item())
    return net, losses

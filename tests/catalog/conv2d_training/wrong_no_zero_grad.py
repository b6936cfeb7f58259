# catches: test_epochs
# tag: test_epochs: gradients-accumulate
# message: test_epochs: reset them every epoch
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
        losses.append(loss.item())
    return net, losses

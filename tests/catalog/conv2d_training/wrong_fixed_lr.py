# catches: test_gradient_step
# tag: test_gradient_step: ignores-lr
# message: test_gradient_step: that is the step of lr=0.01
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
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= 1e-2 * param.grad  # the learning rate from the chapter
        losses.append(loss.item())
    return net, losses

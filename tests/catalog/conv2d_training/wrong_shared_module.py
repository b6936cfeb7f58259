# catches: test_fresh_module, test_gradient_step
# tag: test_fresh_module: not-fresh-module
# cell: train_conv2d
nets = {}


def train_conv2d(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
) -> tuple[Conv2D, list[float]]:
    # build one layer per kernel size and keep training it
    if kernel_size not in nets:
        nets[kernel_size] = Conv2D(kernel_size)
    net = nets[kernel_size]
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(loss.item())
    return net, losses

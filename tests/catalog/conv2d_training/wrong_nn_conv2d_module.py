# catches: test_gradient_step, test_fresh_module
# tag: test_fresh_module: not-fresh-module
# cell: train_conv2d
def train_conv2d(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
) -> tuple[Conv2D, list[float]]:
    # PyTorch's own layer does the same job
    net = nn.Conv2d(1, 1, kernel_size=kernel_size)
    X4, Y4 = X.reshape(1, 1, *X.shape), Y.reshape(1, 1, *Y.shape)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X4) - Y4) ** 2).sum()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(loss.item())
    net.weight = nn.Parameter(net.weight.detach().reshape(kernel_size))
    return net, losses

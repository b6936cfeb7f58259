# catches: test_gradient_step
# tag: test_gradient_step: mean-not-sum
# message: test_gradient_step: MEAN squared error
# cell: train_conv2d
def train_conv2d(
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
) -> tuple[Conv2D, list[float]]:
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(num_epochs):
        optimizer.zero_grad()
        loss = loss_fn(net(X), Y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net, losses

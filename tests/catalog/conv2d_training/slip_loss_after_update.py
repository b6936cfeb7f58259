# slip: the loss is recorded after the update (recomputed with the new parameters)
# loses: test_losses
# tag: test_losses: loss-after-update
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for _ in range(num_epochs):
        optimizer.zero_grad()
        ((net(X) - Y) ** 2).sum().backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(((net(X) - Y) ** 2).sum().item())
    return net, losses

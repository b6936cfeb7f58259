# slip: returns the list [net, losses] instead of the tuple (net, losses)
# loses: test_losses
# message: test_losses: expected the tuple (net, losses), got a list
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            net.weight -= lr * net.weight.grad
            net.bias -= lr * net.bias.grad
        losses.append(loss.item())
    return [net, losses]

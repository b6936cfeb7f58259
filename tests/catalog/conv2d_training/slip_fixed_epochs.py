# slip: d2l's loop of 10 epochs is kept instead of num_epochs
# loses: test_losses
# tag: test_losses: ignores-num-epochs
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    losses = []
    for i in range(10):
        Y_hat = net(X)
        l = (Y_hat - Y) ** 2
        net.zero_grad()
        l.sum().backward()
        net.weight.data[:] -= lr * net.weight.grad
        net.bias.data[:] -= lr * net.bias.grad
        losses.append(l.sum().item())
    return net, losses

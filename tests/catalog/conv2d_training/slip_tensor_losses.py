# slip: the loss tensors themselves are recorded instead of Python floats
# loses: test_losses
# tag: test_losses: tensor-losses
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(loss)
    return net, losses

# catches: test_losses
# message: test_losses: expected the losses as a list, got a Conv2D
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
        losses.append(loss.item())
    return losses, net

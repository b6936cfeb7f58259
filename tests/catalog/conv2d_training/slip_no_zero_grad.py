# slip: optimizer.zero_grad() is missing, so the gradients pile up across epochs
# loses: test_epochs
# tag: test_epochs: gradients-accumulate
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return net, losses

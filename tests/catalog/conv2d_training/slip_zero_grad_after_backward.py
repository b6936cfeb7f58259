# slip: optimizer.zero_grad() sits between backward() and step(), so every step is a step of zero
# loses: test_gradient_step
# tag: test_gradient_step: parameters-not-updated
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for _ in range(num_epochs):
        loss = ((net(X) - Y) ** 2).sum()
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return net, losses

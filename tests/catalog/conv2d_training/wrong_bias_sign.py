# catches: test_gradient_step
# tag: test_gradient_step: gradient-ascent
# message: test_gradient_step: the bias moved up the gradient
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
            net.bias += lr * net.bias.grad
        losses.append(loss.item())
    return net, losses

# catches: test_gradient_step
# tag: test_gradient_step: mean-not-sum
# message: test_gradient_step: is the mean squared error
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    losses = []
    for _ in range(num_epochs):
        errors = (net(X) - Y) ** 2
        net.zero_grad()
        errors.sum().backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(errors.mean().item())  # reports the mean squared error
    return net, losses

# slip: F.mse_loss (the mean squared error) instead of the summed squared error
# loses: test_gradient_step
# tag: test_gradient_step: mean-not-sum
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    import torch.nn.functional as F

    net = Conv2D(kernel_size)
    losses = []
    for _ in range(num_epochs):
        loss = F.mse_loss(net(X), Y)
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= lr * param.grad
        losses.append(loss.item())
    return net, losses

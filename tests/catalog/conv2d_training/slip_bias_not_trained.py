# slip: the optimizer is given the weight only, so the bias is never updated
# loses: test_gradient_step
# tag: test_gradient_step: bias-not-trained
# message: test_gradient_step: the bias did not change
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD([net.weight], lr=lr)
    losses = []
    for _ in range(num_epochs):
        optimizer.zero_grad()
        loss = ((net(X) - Y) ** 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net, losses

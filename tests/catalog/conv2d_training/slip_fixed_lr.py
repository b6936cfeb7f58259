# slip: the chapter's learning rate 0.01 is hard-coded instead of the lr passed in
# loses: test_gradient_step
# tag: test_gradient_step: ignores-lr
# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    losses = []
    for _ in range(num_epochs):
        optimizer.zero_grad()
        loss = ((net(X) - Y) ** 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net, losses

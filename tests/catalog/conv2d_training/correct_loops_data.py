# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        kh, kw = kernel_size
        self.weight = nn.Parameter(torch.rand(kh, kw))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        kh, kw = self.weight.shape
        rows = []
        for i in range(X.shape[0] - kh + 1):
            row = []
            for j in range(X.shape[1] - kw + 1):
                row.append((X[i : i + kh, j : j + kw] * self.weight).sum())
            rows.append(torch.stack(row))
        return torch.stack(rows) + self.bias


# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size)
    losses = []
    for i in range(num_epochs):
        Y_hat = net(X)
        l = (Y_hat - Y) ** 2
        net.zero_grad(set_to_none=True)
        l.sum().backward()
        net.weight.data[:] -= lr * net.weight.grad
        net.bias.data -= lr * net.bias.grad
        losses.append(l.sum().item())
    return net, losses

# cell: Conv2D
import torch.nn.functional as F


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(*kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        out = F.conv2d(X.unsqueeze(0).unsqueeze(0), self.weight.unsqueeze(0).unsqueeze(0))
        return out.squeeze(0).squeeze(0) + self.bias


# cell: train_conv2d
def train_conv2d(X, Y, kernel_size, lr, num_epochs):
    net = Conv2D(kernel_size=kernel_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for epoch in range(num_epochs):
        optimizer.zero_grad()
        loss = torch.sum((net(X) - Y) ** 2)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return net, losses

# slip: the forward pass returns F.conv2d's 4-d output (1, 1, h', w') without dropping the batch and channel dimensions
# loses: test_forward
# message: test_forward: expected an output of shape (6, 7), got (1, 1, 6, 7) (the values are right)
# cell: Conv2D
import torch.nn.functional as F


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return F.conv2d(X[None, None], self.weight[None, None]) + self.bias

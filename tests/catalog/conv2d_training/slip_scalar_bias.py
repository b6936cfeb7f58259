# slip: the bias is a 0-d parameter (shape ()) instead of shape (1,)
# loses: test_parameters
# tag: test_parameters: scalar-bias
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.tensor(0.0))

    def forward(self, X):
        return corr2d(X, self.weight) + self.bias

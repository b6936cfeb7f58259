# catches: test_parameters
# message: test_parameters: expected a parameter that requires grad
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1), requires_grad=False)  # starts at zero anyway

    def forward(self, X):
        return corr2d(X, self.weight) + self.bias

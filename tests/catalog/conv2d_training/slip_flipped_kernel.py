# slip: the forward pass flips the kernel (a true convolution); training itself is right
# loses: test_forward
# tag: test_forward: flipped-kernel
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return corr2d(X, self.weight.flip(0, 1)) + self.bias

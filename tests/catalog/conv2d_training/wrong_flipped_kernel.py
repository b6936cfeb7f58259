# catches: test_forward
# tag: test_forward: flipped-kernel
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # a convolution flips the kernel
        return corr2d(X, torch.flip(self.weight, dims=(0, 1))) + self.bias

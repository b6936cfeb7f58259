# catches: test_forward, test_recovers_kernel
# tag: test_forward: forward-without-bias
# cell: Conv2D
class Conv2D(nn.Module):
    def __init__(self, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return corr2d(X, self.weight)

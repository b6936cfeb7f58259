# catches: test_linear_fresh
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1):
        raise ValueError("not a 1x1 convolution")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None)
    linear.weight.data = conv.weight.data.squeeze(-1).squeeze(-1)
    if conv.bias is not None:
        linear.bias.data = conv.bias.data
    return linear

# slip (real code): assigns the bias unconditionally, so it raises on a convolution without a bias
# loses: test_linear_layout
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("not a plain 1x1 convolution")
    linear = nn.Linear(conv.in_channels, conv.out_channels, dtype=conv.weight.dtype)
    linear.weight = nn.Parameter(conv.weight.detach().clone().reshape(conv.out_channels, conv.in_channels))
    linear.bias = nn.Parameter(conv.bias.detach().clone())
    return linear

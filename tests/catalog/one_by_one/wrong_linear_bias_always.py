# catches: test_linear_layout
# tag: test_linear_layout: extra-bias
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1):
        raise ValueError("not a 1x1 convolution")
    linear = nn.Linear(conv.in_channels, conv.out_channels)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.flatten(1))
        if conv.bias is None:
            linear.bias.zero_()
        else:
            linear.bias.copy_(conv.bias)
    return linear

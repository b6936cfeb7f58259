# catches: test_linear_layout, test_linear_values
# tag: test_linear_layout: swapped-features
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1):
        raise ValueError("not a 1x1 convolution")
    linear = nn.Linear(conv.out_channels, conv.in_channels, bias=conv.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0].T)
        if conv.bias is not None:
            linear.bias.zero_()
    return linear

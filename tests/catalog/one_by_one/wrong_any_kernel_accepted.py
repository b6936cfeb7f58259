# catches: test_linear_refuses_kernel, test_linear_refuses_options
# tag: test_linear_refuses_kernel: kernel-size-unchecked
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear

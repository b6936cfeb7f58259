# catches: test_linear_refuses_options
# message: test_linear_refuses_options: but nothing was raised
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.weight.shape[2:] != (1, 1):
        raise ValueError("only 1x1 kernels")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.flatten(1))
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear

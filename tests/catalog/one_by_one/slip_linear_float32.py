# slip: the Linear is created with the default dtype, so a float64 convolution becomes a float32 Linear
# loses: test_linear_dtype
# message: test_linear_dtype: expected dtype torch.float64, got torch.float32
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError(f"not a plain 1x1 convolution: {conv}")
    c_out, c_in = conv.out_channels, conv.in_channels
    linear = nn.Linear(c_in, c_out, bias=conv.bias is not None)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.view(c_out, c_in))
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear

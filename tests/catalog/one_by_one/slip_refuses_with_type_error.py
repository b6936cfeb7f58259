# slip: refuses every convolution that is not a plain 1x1 one, but with TypeError instead of ValueError
# loses: test_linear_refuses_kernel, test_linear_refuses_options
# message: test_linear_refuses_kernel: got TypeError
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise TypeError("expected a plain 1x1 convolution")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear

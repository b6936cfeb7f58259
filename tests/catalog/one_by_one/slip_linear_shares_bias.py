# slip: the weight is copied, but the bias is the convolution's own Parameter
# loses: test_linear_fresh
# tag: test_linear_fresh: shared-parameters
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("only a plain 1x1 convolution is a Linear on each pixel")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
    if conv.bias is not None:
        linear.bias = conv.bias
    return linear

# cell: linear_to_conv1x1
def linear_to_conv1x1(linear):
    conv = nn.Conv2d(linear.in_features, linear.out_features, kernel_size=1)
    conv.weight = nn.Parameter(linear.weight.detach().clone().unsqueeze(-1).unsqueeze(-1))
    if linear.bias is None:
        conv.bias = None
    else:
        conv.bias = nn.Parameter(linear.bias.detach().clone())
    return conv


# cell: conv1x1_to_linear
def conv1x1_to_linear(conv):
    kh, kw = conv.kernel_size
    if kh != 1 or kw != 1:
        raise ValueError(f"kernel size {conv.kernel_size} is not 1x1")
    if conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("only a plain 1x1 convolution (stride 1, no padding, groups 1) is a Linear")
    linear = nn.Linear(conv.in_channels, conv.out_channels)
    linear.weight = nn.Parameter(conv.weight.detach()[:, :, 0, 0].clone())
    linear.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
    return linear


# cell: linear_to_conv1d
def linear_to_conv1d(linear):
    conv = nn.Conv1d(linear.in_features, linear.out_features, kernel_size=1)
    conv.weight = nn.Parameter(linear.weight.detach().clone()[:, :, None])
    conv.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone())
    return conv

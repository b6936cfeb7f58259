# cell: linear_to_conv1x1
import copy


def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    own = copy.deepcopy(linear)  # private copies of weight and bias
    conv = nn.Conv2d(own.in_features, own.out_features, kernel_size=(1, 1), bias=own.bias is not None)
    conv.weight.data = own.weight.data.reshape(own.out_features, own.in_features, 1, 1)
    if own.bias is not None:
        conv.bias.data = own.bias.data
    return conv


# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if any(k != 1 for k in conv.kernel_size):
        raise ValueError("conv1x1_to_linear needs a 1 x 1 kernel")
    if any(s != 1 for s in conv.stride) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("conv1x1_to_linear needs stride 1, no padding and no groups")
    own = copy.deepcopy(conv)
    linear = nn.Linear(own.in_channels, own.out_channels, bias=own.bias is not None)
    linear.weight.data = own.weight.data.reshape(own.out_channels, own.in_channels)
    if own.bias is not None:
        linear.bias.data = own.bias.data
    return linear


# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    # go through the 2-D version, then drop the last kernel dimension
    conv2d = linear_to_conv1x1(linear)
    conv = nn.Conv1d(
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
        dtype=conv2d.weight.dtype,
    )
    with torch.no_grad():
        conv.weight.copy_(conv2d.weight[..., 0])
        if conv.bias is not None:
            conv.bias.copy_(conv2d.bias)
    return conv

# slip: the weight is transposed on the way back (y = x W^T read as needing W^T)
# loses: test_linear_values
# tag: test_linear_values: transposed-weight
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("only a plain 1x1 convolution is a Linear on each pixel")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0].T.reshape(linear.weight.shape))
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear

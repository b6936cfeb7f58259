# slip: the Linear never gets a bias, the weight is right
# loses: test_linear_layout
# tag: test_linear_layout: missing-bias
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.kernel_size != (1, 1):
        raise ValueError("not a 1x1 kernel")
    if conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
        raise ValueError("stride, padding or groups: not a Linear on each pixel")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=False, dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.flatten(1))
    return linear

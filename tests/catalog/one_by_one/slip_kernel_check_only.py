# slip: refuses kernels that are not 1x1 but converts strided, padded and grouped 1x1 convolutions
# loses: test_linear_refuses_options
# tag: test_linear_refuses_options: options-unchecked
# cell: conv1x1_to_linear
def conv1x1_to_linear(conv):
    kh, kw = conv.kernel_size
    if kh != 1 or kw != 1:
        raise ValueError(f"kernel size {conv.kernel_size} is not 1x1")
    linear = nn.Linear(conv.in_channels, conv.out_channels)
    linear.weight = nn.Parameter(conv.weight.detach()[:, :, 0, 0].clone())
    linear.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
    return linear

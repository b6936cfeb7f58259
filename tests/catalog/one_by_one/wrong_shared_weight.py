# catches: test_conv1x1_fresh
# tag: test_conv1x1_fresh: shared-parameters
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
    )
    conv.weight = nn.Parameter(linear.weight.view(linear.out_features, linear.in_features, 1, 1))
    if linear.bias is not None:
        conv.bias = linear.bias
    return conv

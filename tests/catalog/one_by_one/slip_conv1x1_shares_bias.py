# slip: the weight is copied, but the bias is the Linear's own Parameter
# loses: test_conv1x1_fresh
# tag: test_conv1x1_fresh: shared-parameters
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(
        linear.in_features, linear.out_features, 1, bias=linear.bias is not None, dtype=linear.weight.dtype
    )
    with torch.no_grad():
        conv.weight.copy_(linear.weight[..., None, None])
    if linear.bias is not None:
        conv.bias = linear.bias
    return conv

# slip: the convolution always has a bias (zero when the Linear has none): same map, wrong layout
# loses: test_conv1x1_layout
# tag: test_conv1x1_layout: extra-bias
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(linear.in_features, linear.out_features, kernel_size=1, dtype=linear.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None, None])
        if linear.bias is None:
            conv.bias.zero_()
        else:
            conv.bias.copy_(linear.bias)
    return conv

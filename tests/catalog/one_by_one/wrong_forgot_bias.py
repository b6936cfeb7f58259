# catches: test_conv1x1_layout
# tag: test_conv1x1_layout: missing-bias
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(linear.in_features, linear.out_features, kernel_size=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None, None])
    return conv

# catches: test_conv1x1_values
# tag: test_conv1x1_values: transposed-weight
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
    )
    with torch.no_grad():
        # y = x W^T, so the convolution needs W^T
        conv.weight.copy_(linear.weight.T.reshape(conv.weight.shape))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

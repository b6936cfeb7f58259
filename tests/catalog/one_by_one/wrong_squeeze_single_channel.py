# catches: test_conv1x1_layout
# message: test_conv1x1_layout: linear_to_conv1x1(nn.Linear(1, 6, bias=True, dtype=torch.float32)) raised
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(
        linear.in_features, linear.out_features, 1, bias=linear.bias is not None, dtype=linear.weight.dtype
    )
    with torch.no_grad():
        # squeeze() also drops a channel dimension of size 1
        conv.weight.copy_(linear.weight.squeeze()[:, :, None, None])
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

# catches: test_conv1d_layout, test_conv1d_values
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    # a kernel of 2 with the second tap set to zero, padded to keep the length
    conv = nn.Conv1d(
        linear.in_features,
        linear.out_features,
        kernel_size=2,
        padding=1,
        bias=linear.bias is not None,
    )
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, :, 0] = linear.weight
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

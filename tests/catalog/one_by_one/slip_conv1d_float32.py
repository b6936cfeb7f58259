# slip: the Conv1d is created with the default dtype, so a float64 Linear becomes a float32 convolution
# loses: test_conv1d_dtype
# tag: test_conv1d_dtype: dtype-not-kept
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(linear.in_features, linear.out_features, kernel_size=1, bias=linear.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None])
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

# catches: test_conv1d_values
# tag: test_conv1d_values: transposed-weight
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(
        linear.in_features,
        linear.out_features,
        kernel_size=1,
        bias=linear.bias is not None,
    )
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(linear.in_features, linear.out_features).T.unsqueeze(-1))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

# two slips: float32 always (the dtype cell) and a bias copied unconditionally, which raises on a
# Linear without a bias (the layout cell only)
# catches: test_conv1d_layout, test_conv1d_dtype
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(linear.in_features, linear.out_features, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.unsqueeze(-1))
        conv.bias.copy_(linear.bias)
    return conv

# slip: the Conv1d never gets a bias, the weight is right
# loses: test_conv1d_layout
# tag: test_conv1d_layout: missing-bias
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(linear.in_features, linear.out_features, 1, bias=False, dtype=linear.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.unsqueeze(2))
    return conv

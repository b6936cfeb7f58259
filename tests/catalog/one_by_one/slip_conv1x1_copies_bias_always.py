# slip (real code): copies the bias unconditionally, so it raises on a Linear without a bias;
# a missing bias is the layout cell's requirement, and only that cell may charge it
# loses: test_conv1x1_layout
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(linear.in_features, linear.out_features, kernel_size=1, dtype=linear.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.unsqueeze(-1).unsqueeze(-1))
        conv.bias.copy_(linear.bias)
    return conv

# slip: reshapes the Linear's own weight in place (.data =) before copying it: the result is right, the Linear is not
# loses: test_conv1d_fresh
# tag: test_conv1d_fresh: modifies-input
# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(
        linear.in_features, linear.out_features, 1, bias=linear.bias is not None, dtype=linear.weight.dtype
    )
    linear.weight.data = linear.weight.data[..., None]  # (c_out, c_in) -> (c_out, c_in, 1)
    with torch.no_grad():
        conv.weight.copy_(linear.weight)
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv

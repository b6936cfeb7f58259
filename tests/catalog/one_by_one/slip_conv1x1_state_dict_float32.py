# slip: the convolution is created with the default dtype, so a float64 Linear becomes a float32 convolution
# loses: test_conv1x1_dtype
# tag: test_conv1x1_dtype: dtype-not-kept
# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    c_out, c_in = linear.weight.shape
    conv = nn.Conv2d(c_in, c_out, (1, 1), bias=linear.bias is not None)
    state = {k: v.clone() for k, v in linear.state_dict().items()}
    state["weight"] = state["weight"].view(c_out, c_in, 1, 1)
    conv.load_state_dict(state)  # copies (and rounds) into conv's float32 parameters
    return conv

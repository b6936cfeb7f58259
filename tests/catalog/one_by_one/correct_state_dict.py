# cell: linear_to_conv1x1
def linear_to_conv1x1(linear: nn.Linear) -> nn.Conv2d:
    c_out, c_in = linear.weight.shape
    conv = nn.Conv2d(c_in, c_out, (1, 1), bias=linear.bias is not None, dtype=linear.weight.dtype)
    state = {k: v.clone() for k, v in linear.state_dict().items()}
    state["weight"] = state["weight"].view(c_out, c_in, 1, 1)
    conv.load_state_dict(state)
    return conv


# cell: conv1x1_to_linear
def conv1x1_to_linear(conv: nn.Conv2d) -> nn.Linear:
    if conv.weight.shape[2:] != (1, 1):
        raise ValueError("only 1x1 kernels")
    if (conv.stride, conv.padding, conv.groups) != ((1, 1), (0, 0), 1):
        raise ValueError(f"stride {conv.stride}, padding {conv.padding}, groups {conv.groups}: not a per-pixel map")
    linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None, dtype=conv.weight.dtype)
    state = {k: v.clone() for k, v in conv.state_dict().items()}
    state["weight"] = state["weight"].flatten(1)
    linear.load_state_dict(state)
    return linear


# cell: linear_to_conv1d
def linear_to_conv1d(linear: nn.Linear) -> nn.Conv1d:
    conv = nn.Conv1d(
        linear.in_features, linear.out_features, 1, bias=linear.bias is not None, dtype=linear.weight.dtype
    )
    state = dict(linear.state_dict())
    state["weight"] = state["weight"][..., None]
    conv.load_state_dict(state)  # load_state_dict copies into conv's own tensors
    return conv

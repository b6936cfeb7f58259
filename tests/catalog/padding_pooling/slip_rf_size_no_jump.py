# slip: the strides are left out of the size (receptive_field itself is right)
# loses: test_receptive_field_size
# tag: test_receptive_field_size: stride-ignored
# cell: receptive_field_size
def receptive_field_size(layers: list[tuple[int, int, int, int]]) -> int:
    return 1 + sum(d * (k - 1) for k, _, _, d in layers)

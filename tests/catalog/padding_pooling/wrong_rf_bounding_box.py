# the span from the first to the last sample, without the gaps that dilation leaves
# catches: test_receptive_field
# tag: test_receptive_field: receptive-field-without-gaps
# cell: receptive_field
def receptive_field(layers: list[tuple[int, int, int, int]], n: int, position: int) -> torch.Tensor:
    x = torch.ones(1, 1, n, requires_grad=True)
    y = x
    for k, s, p, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    y[0, 0, position].backward()
    where = torch.nonzero(x.grad[0, 0]).reshape(-1)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[int(where[0]) : int(where[-1]) + 1] = True
    return mask

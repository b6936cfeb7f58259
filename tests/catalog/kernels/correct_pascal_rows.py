# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    if d < 0:
        raise ValueError(f"d = {d} is negative")
    row = [1.0]
    for _ in range(d):
        # multiply the polynomial by (z - 1): coefficients of f(x + k)
        row = [a - b for a, b in zip([0.0] + row, row + [0.0])]
    return torch.tensor(row).unsqueeze(0)


# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    return torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])

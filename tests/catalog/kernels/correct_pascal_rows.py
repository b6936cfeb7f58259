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


# cell: centred_kernel
def centred_kernel(d: int, m: int) -> torch.Tensor:
    """Lagrange's basis polynomials on -m..m: the weights are their d-th derivatives at 0."""
    if d < 0 or m < 0 or 2 * m + 1 < d + 1:
        raise ValueError(f"centred_kernel({d}, {m}): too few taps")
    nodes = list(range(-m, m + 1))
    weights = []
    for k in nodes:
        poly = torch.tensor([1.0], dtype=torch.float64)  # coefficients, lowest power first
        for other in nodes:
            if other != k:
                step = torch.tensor([-other / (k - other), 1.0 / (k - other)], dtype=torch.float64)
                poly = torch.cat([poly, poly.new_zeros(1)]) * step[0] + torch.cat([poly.new_zeros(1), poly]) * step[1]
        weights.append(poly[d] * math.factorial(d) if d < len(poly) else poly.new_zeros(()))
    return torch.stack(weights).reshape(1, -1)


# cell: mixed_partial_kernel
def mixed_partial_kernel(a: int, b: int) -> torch.Tensor:
    """Entry (r, c) = (-1)**(b - r) C(b, r) (-1)**(a - c) C(a, c)."""
    K = torch.empty(b + 1, a + 1)
    for r in range(b + 1):
        for c in range(a + 1):
            K[r, c] = (-1) ** (a + b - r - c) * math.comb(b, r) * math.comb(a, c)
    return K

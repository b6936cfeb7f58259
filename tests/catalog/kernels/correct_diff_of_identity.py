# cell: derivative_kernel
def derivative_kernel(d: int) -> torch.Tensor:
    """Row j of the identity is a unit impulse; its d-th difference lists the weights."""
    if d < 0:
        raise ValueError("negative order")
    return torch.diff(torch.eye(d + 1), n=d, dim=0)


# cell: laplacian_kernel
def laplacian_kernel() -> torch.Tensor:
    K = torch.zeros(3, 3)
    K[1, 1] = -4
    K[0, 1] = K[2, 1] = K[1, 0] = K[1, 2] = 1
    return K


# cell: centred_kernel
def centred_kernel(d: int, m: int) -> torch.Tensor:
    """The inverse of the Vandermonde matrix, column d, times d!."""
    if min(d, m) < 0 or 2 * m < d:
        raise ValueError("need 2m + 1 >= d + 1 taps")
    j = torch.arange(-m, m + 1, dtype=torch.float64)
    V = j[None, :] ** torch.arange(2 * m + 1, dtype=torch.float64)[:, None]
    return (torch.linalg.inv(V)[:, d] * math.factorial(d))[None, :]


# cell: mixed_partial_kernel
def mixed_partial_kernel(a: int, b: int) -> torch.Tensor:
    """Column kernel times row kernel, by broadcasting."""
    return derivative_kernel(b).reshape(-1, 1) * derivative_kernel(a).reshape(1, -1)

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

# cell: derivative_kernel
def derivative_kernel(d):
    if d < 0:
        raise ValueError("d must be >= 0")
    K = torch.ones(1, 1, 1)
    first = torch.tensor([[[-1.0, 1.0]]])
    for _ in range(d):
        # composing two differences = convolving their kernels (flip to turn conv1d's correlation into a convolution)
        K = F.conv1d(F.pad(K, (1, 1)), first.flip(-1))
    return K[0]


# cell: laplacian_kernel
def laplacian_kernel():
    second = derivative_kernel(2)
    return F.pad(second, (0, 0, 1, 1)) + F.pad(second.T, (1, 1, 0, 0))


# cell: centred_kernel
def centred_kernel(d, m):
    """torch.linalg.lstsq on the square system (the same unique solution)."""
    if d < 0 or m < 0:
        raise ValueError("negative")
    if 2 * m + 1 < d + 1:
        raise ValueError("too few taps")
    offsets = torch.arange(-m, m + 1).double()
    V = torch.vander(offsets, N=2 * m + 1, increasing=True).T  # V[q, j] = offsets[j] ** q
    target = torch.zeros(2 * m + 1, 1, dtype=torch.float64)
    target[d, 0] = math.factorial(d)
    return torch.linalg.lstsq(V, target).solution.T


# cell: mixed_partial_kernel
def mixed_partial_kernel(a, b):
    """Cross-correlate the 2-D impulse with the two 1-D kernels in turn."""
    ky = derivative_kernel(b).reshape(1, 1, -1, 1)
    kx = derivative_kernel(a).reshape(1, 1, 1, -1)
    impulse = torch.zeros(1, 1, 2 * b + 1, 2 * a + 1)
    impulse[0, 0, b, a] = 1.0
    out = F.conv2d(F.conv2d(impulse, ky), kx)[0, 0]  # (b + 1, a + 1), entries flipped
    return out.flip(0, 1).contiguous()

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

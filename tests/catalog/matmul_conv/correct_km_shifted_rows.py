# Pads K to the input's width once; every row is that padded kernel shifted right.
# cell: kernel_matrix
def kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """W of shape (out_h * out_w, in_h * in_w) with W @ X.reshape(-1) = corr2d(X, K).reshape(-1)."""
    in_h, in_w = input_shape
    kh, kw = K.shape
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    padded = torch.cat([K, K.new_zeros((kh, in_w - kw))], dim=1).reshape(-1)
    padded = padded[: (kh - 1) * in_w + kw]  # drop the zeros after the last weight
    rows = []
    for i in range(out_h):
        for j in range(out_w):
            shift = i * in_w + j
            rows.append(
                torch.cat(
                    [
                        K.new_zeros(shift),
                        padded,
                        K.new_zeros(in_h * in_w - shift - len(padded)),
                    ]
                )
            )
    return torch.stack(rows)

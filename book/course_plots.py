"""Figure helpers shared by the chapters: one style for every matrix and curve.

Kernels, images, feature maps and weight matrices are drawn with a diverging
colour map centred at zero, so that the sign of every entry stays visible.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

CMAP = "RdBu_r"


def _as_array(M: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(M, torch.Tensor):
        return M.detach().cpu().numpy()
    return np.asarray(M)


def show_matrix(
    ax,
    M,
    title: str = "",
    *,
    annotate: bool | None = None,
    vmax: float | None = None,
    xlabel: str = "column",
    ylabel: str = "row",
    colorbar: bool = False,
):
    """Draw a 2-D tensor as an image, centred at 0, optionally writing each value."""
    A = _as_array(M)
    if A.ndim == 1:
        A = A[None, :]
    limit = vmax if vmax is not None else max(float(np.abs(A).max()), 1e-12)
    im = ax.imshow(A, cmap=CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    if annotate is None:
        annotate = A.size <= 64
    if annotate:
        for (i, j), v in np.ndenumerate(A):
            ax.text(
                j, i, f"{v:g}", ha="center", va="center", fontsize=8, color="white" if abs(v) > 0.6 * limit else "black"
            )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if A.shape[1] <= 12:
        ax.set_xticks(range(A.shape[1]))
    if A.shape[0] <= 12:
        ax.set_yticks(range(A.shape[0]))
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return im


def show_row(tensors, titles, *, figsize=None, **kwargs):
    """Draw several matrices side by side; returns the figure."""
    n = len(tensors)
    fig, axes = plt.subplots(1, n, figsize=figsize or (3.2 * n, 3), squeeze=False)
    for ax, M, t in zip(axes[0], tensors, titles):
        show_matrix(ax, M, t, **kwargs)
    fig.tight_layout()
    return fig


def plot_curve(ax, values, *, title: str = "", xlabel: str = "epoch", ylabel: str = "loss", log: bool = True):
    """Draw a loss curve (log scale by default) with labelled axes."""
    ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def xcorr(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid 2-D cross-correlation of a 2-D X with a 2-D K, via PyTorch's conv2d."""
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]


def load_photo(factor: int = 4) -> torch.Tensor:
    """The grayscale portrait that ships with matplotlib, averaged down by ``factor``.

    Returns a float32 tensor of shape ``(600 // factor, 512 // factor)`` with
    values in [0, 1]; nothing is downloaded.
    """
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = torch.tensor(plt.imread(f), dtype=torch.float32) / 255  # (600, 512, 3)
    gray = rgb @ torch.tensor([0.299, 0.587, 0.114])  # luma
    return torch.nn.functional.avg_pool2d(gray[None, None], factor)[0, 0]


def matrix_of(layer, in_shape: tuple[int, ...]) -> torch.Tensor:
    """The matrix of a linear map on tensors of shape in_shape, column by column."""
    n_in = int(np.prod(in_shape))
    basis = torch.eye(n_in, dtype=torch.float64).reshape(n_in, 1, *in_shape)
    return layer(basis).reshape(n_in, -1).T  # column j = layer(e_j)


def draw_window(
    ax,
    X,
    *,
    padding: int = 0,
    stride: int = 1,
    dilation: int = 1,
    kernel: int = 3,
    position: tuple[int, int] = (0, 0),
    title: str = "",
):
    """Draw the zero-padded input X with the kernel's taps at one output position.

    Input pixels are shaded and numbered, padding zeros are grey, the taps that
    output ``position`` multiplies are framed in black, and the window they span
    (kernel extent ``dilation * (kernel - 1) + 1``) is outlined with a dashed line.
    """
    from matplotlib.patches import Rectangle

    A = _as_array(X)
    h, w = A.shape
    size_h, size_w = h + 2 * padding, w + 2 * padding
    for r in range(size_h):
        for c in range(size_w):
            inside = padding <= r < padding + h and padding <= c < padding + w
            colour = "#c6dbef" if inside else "#e0e0e0"
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="white", lw=1))
            value = A[r - padding, c - padding] if inside else 0
            ax.text(
                c + 0.5,
                r + 0.5,
                f"{value:g}",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if inside else "#555555",
            )
    i, j = position
    top, left = i * stride, j * stride
    extent = dilation * (kernel - 1) + 1
    ax.add_patch(Rectangle((left, top), extent, extent, fill=False, ls="--", lw=1.5, color="black"))
    for a in range(kernel):
        for b in range(kernel):
            ax.add_patch(
                Rectangle(
                    (left + b * dilation + 0.06, top + a * dilation + 0.06),
                    0.88,
                    0.88,
                    fill=False,
                    lw=2.2,
                    color="#b2182b",
                )
            )
    ax.set_xlim(0, size_w)
    ax.set_ylim(size_h, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)

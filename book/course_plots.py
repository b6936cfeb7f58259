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

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

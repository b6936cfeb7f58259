"""Which book section each test cell assesses, for the class report's pass rate per concept.

By default a test cell assesses its exercise's chapter (:data:`CHAPTERS`; the
notebooks name their chapter in words, since a link into ``book/`` is dead in a
downloaded notebook). :data:`SECTIONS` narrows that to a section for the cells
that test one idea of it; a test checks that every page and heading named here
exists in ``book/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from docutils.nodes import make_id

# assignment -> the book page (book/<page>.md) its exercise goes with
CHAPTERS: dict[str, str] = {
    "corr2d": "images",
    "matmul_conv": "conv_as_matmul",
    "conv2d_training": "images",
    "kernels": "designing_kernels",
    "one_by_one": "one_by_one",
    "padding_pooling": "padding_stride",
}

# assignment -> grade_id -> (book page, heading of the section the cell assesses)
SECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "corr2d": {
        "test_textbook": ("images", "A worked example"),
        "test_edges": ("images", "Detecting a vertical edge"),
        "test_shape": ("images", "The output shape"),
        "test_edge_cases": ("images", "The output shape"),
        "test_values": ("images", "The operation"),
        "test_gradients": ("conv_as_matmul", "The backward pass: shared weights add up their gradients"),
    },
    "matmul_conv": {
        "test_matmul_gradients": ("conv_as_matmul", "The backward pass: shared weights add up their gradients"),
        "test_kernel_matrix_shape": ("conv_as_matmul", "The weight matrix of a convolution"),
        "test_kernel_matrix_product": ("conv_as_matmul", "The weight matrix of a convolution"),
        "test_kernel_matrix_structure": ("conv_as_matmul", "The weight matrix of a convolution"),
    },
    "conv2d_training": {
        "test_parameters": ("images", "Adding a bias"),
        "test_forward": ("images", "Adding a bias"),
        "test_losses": ("images", "Learning the kernel from examples"),
        "test_gradient_step": ("images", "Learning the kernel from examples"),
        "test_epochs": ("images", "Learning the kernel from examples"),
        "test_recovers_kernel": ("images", "Learning the kernel from examples"),
    },
    "kernels": {
        "test_first_differences": ("designing_kernels", "The first difference"),
        "test_higher_differences": ("designing_kernels", "Derivatives of any order"),
        "test_laplacian_shape": ("designing_kernels", "In two dimensions: Sobel and Laplacian"),
        "test_laplacian_values": ("designing_kernels", "In two dimensions: Sobel and Laplacian"),
        "test_centred_shape": ("designing_kernels", "Derivatives of any order"),
        "test_centred_values": ("designing_kernels", "Derivatives of any order"),
        "test_centred_refuses": ("designing_kernels", "The minimum size"),
        "test_mixed_shape": ("designing_kernels", "Mixed partial derivatives"),
        "test_mixed_values": ("designing_kernels", "Mixed partial derivatives"),
    },
    "padding_pooling": {
        "test_output_size": ("padding_stride", "The output size"),
        "test_output_size_refuses": ("padding_stride", "The output size"),
        **{
            gid: ("pooling", "Max and average pooling")
            for gid in ("test_pool_shape", "test_pool_values", "test_pool_overlapping", "test_pool_no_builtin")
        },
        **{
            gid: ("pooling", "The gradient of max pooling goes to the arg-max")
            for gid in ("test_pool_gradient", "test_backward_values", "test_backward_overlapping")
        },
        "test_receptive_field": ("padding_stride", "How stride and dilation grow the receptive field"),
        "test_receptive_field_size": ("padding_stride", "How stride and dilation grow the receptive field"),
    },
    "one_by_one": {
        gid: ("one_by_one", "A 1 × 1 convolution is a fully connected layer on every pixel")
        for gid in (
            "test_conv1x1_layout",
            "test_conv1x1_values",
            "test_conv1x1_fresh",
            "test_linear_layout",
            "test_linear_values",
            "test_linear_fresh",
            "test_conv1d_layout",
            "test_conv1d_values",
            "test_conv1d_fresh",
        )
    },
}

_LINK = re.compile(r"\[([^\]]+)\]\((?:\.\./)*book/([\w-]+)\.md(?:#([\w-]+))?\)")


@dataclass(frozen=True)
class Concept:
    """A section of the book: its title, its page, the anchor of the section (empty for a whole chapter)."""

    title: str
    page: str
    anchor: str = ""

    def href(self, *, book_html: Path, start: Path) -> str:
        """Relative link from ``start`` (the report's folder) into the built book."""
        target = os.path.relpath(book_html / "book" / f"{self.page}.html", start)
        return target + (f"#{self.anchor}" if self.anchor else "")


def heading_anchor(book: Path, page: str, heading: str) -> str | None:
    """The HTML id Sphinx gives ``heading`` of ``book/<page>.md`` (its MyST label if it has one), or None."""
    path = book / f"{page}.md"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = re.fullmatch(r"#{1,6}\s+(.*?)\s*", line)
        if match and match.group(1) == heading:
            label = re.fullmatch(r"\((.+)\)=", lines[i - 1].strip()) if i else None
            return label.group(1) if label else make_id(heading)
    return None


def _title(path: Path) -> str:
    """The first level-1 heading of a MyST page."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def concepts_of(assignment: str, *, course_root: Path) -> dict[str, Concept]:
    """grade_id -> the concept each test cell of ``assignment`` assesses."""
    source = nbformat.read(course_root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    book = course_root / "book"
    current: Concept | None = None
    page = CHAPTERS.get(assignment)
    if page is not None and (book / f"{page}.md").is_file():
        current = Concept(_title(book / f"{page}.md") or page, page)
    found: dict[str, Concept] = {}
    table = SECTIONS.get(assignment, {})
    for cell in source.cells:
        if cell.cell_type == "markdown":
            links = _LINK.findall(cell.source)
            if links:
                title, page, anchor = links[-1] if current else links[0]
                current = Concept(title, page, anchor)
            continue
        meta = cell.metadata.get("nbgrader", {})
        if not (meta.get("grade") and not meta.get("solution")):
            continue
        gid = meta["grade_id"]
        if gid in table:
            page, heading = table[gid]
            found[gid] = Concept(heading, page, heading_anchor(book, page, heading) or "")
        elif current is not None:
            found[gid] = current
    return found

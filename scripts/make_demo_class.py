"""Write a small demo class of corr2d submissions, made from the released notebook.

    python scripts/make_demo_class.py demo/corr2d

alice submits the reference answer (read from the solution notebook), bob a
cross-correlation that flips the kernel (a true convolution: right shapes,
wrong values), carol an answer that crashes her notebook's process. Each also
answers the written question (``written_border``), which awaits
``python -m autograder review``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402

from autograder.samples import solution_answers, submission  # noqa: E402

BOB = '''def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Flips the kernel first: a true convolution, not a cross-correlation."""
    K = torch.flip(K, dims=(0, 1))
    h, w = X.shape
    kh, kw = K.shape
    Y = torch.zeros((h - kh + 1, w - kw + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y
'''

CAROL = '''def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Ends the whole process: the grader must survive it."""
    import os

    os._exit(1)
'''


WRITTEN = {
    "alice": (
        "A $2 \\times 2$ kernel fits in $(h - 1)(w - 1)$ places, so the output loses a row and a column, and a "
        "corner pixel lies in one window only. My image: $X$ is $4 \\times 5$ with its first column $1$ and the "
        "rest $0$, $K = [1, -1]$: the first output column is $1$, the rest $0$. Padding with zeros would add a "
        "column of responses $-1$ at the left border: an edge between the zeros and my image, which is not in it."
    ),
    "bob": "The output is smaller because the kernel has to fit. Padding fixes that.",
    "carol": "Pixels at the border are in fewer windows, so the output is smaller: $h - k_h + 1$ rows.",
}


def main(folder: str) -> int:
    root = Path(folder)
    answers = {
        "alice": solution_answers("corr2d")["corr2d"],
        "bob": BOB,
        "carol": CAROL,
    }
    for student, source in answers.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        notebook = submission("corr2d", {"corr2d": source, "written_border": WRITTEN[student]})
        nbformat.write(notebook, root / student / "corr2d.ipynb")
    print(f"demo class of {len(answers)} students written to {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "demo/corr2d"))

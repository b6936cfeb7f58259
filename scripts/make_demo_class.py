"""Write a small demo class of corr2d submissions, made from the released notebook.

    python scripts/make_demo_class.py demo/corr2d

alice submits the reference answer (read from the solution notebook), bob a
cross-correlation that flips the kernel (a true convolution: right shapes,
wrong values), carol an answer that crashes her notebook's process.
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


def main(folder: str) -> int:
    root = Path(folder)
    answers = {
        "alice": solution_answers("corr2d")["corr2d"],
        "bob": BOB,
        "carol": CAROL,
    }
    for student, source in answers.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(submission("corr2d", {"corr2d": source}), root / student / "corr2d.ipynb")
    print(f"demo class of {len(answers)} students written to {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "demo/corr2d"))

"""``python -m autograder``: see :mod:`autograder.cli`."""

import sys

from .sandbox import prestart


def _grading_here(argv: list[str]) -> bool:
    """``grade`` on this machine's sandbox (not on a cluster, not only its help): its zygote can start at once."""
    options = argv[1:]
    return (
        argv[:1] == ["grade"]
        and not any(a in ("-h", "--help") for a in options)
        and not any(a.startswith("--da") for a in options)  # --dask, as argparse takes it abbreviated
    )


if _grading_here(sys.argv[1:]):
    # started before the grader's own imports, which it overlaps; an unused one is stopped at exit
    prestart(sandboxed=not any(a.startswith("--unsa") for a in sys.argv[2:]))

from .cli import main  # noqa: E402

raise SystemExit(main())

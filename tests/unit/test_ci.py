"""CI runs exactly the README's quick start: the system packages, then its two commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's quick start has no sh block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.split("#", 1)[0].strip()]


def test_ci_runs_the_quick_start_verbatim_after_the_system_packages() -> None:
    commands = quick_start_commands()
    assert commands == ["make", "make test"]
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    run = [
        line
        for line in lines
        if line and not line.startswith(("#", "echo", "stage", "set ", "cd ", "local", "now", "}"))
    ]
    run = [line for line in run if not re.match(r"^(stage\(\)|stage_start=|echo)", line)]
    assert run[-3:] == ["sh scripts/install_system_packages.sh", *commands]
    assert "set -euo pipefail" in lines


def test_make_in_a_student_edition_fork_says_what_it_skips(tmp_path: Path) -> None:
    """A fork without solutions/ (book/publishing.md) keeps exercises/ and has no demo class: make says so."""
    import shutil
    import subprocess

    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv" / "bin" / ".installed").touch()  # newer than both: nothing to install
    proc = subprocess.run(
        ["make", "exercises", "demo"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "make exercises: skipped: no solutions/" in proc.stdout
    assert "make demo: skipped: no solutions/corr2d" in proc.stdout

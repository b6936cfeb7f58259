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

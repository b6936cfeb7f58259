"""The output folder is swapped in whole: a run killed at any point leaves one complete set."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.outputs import COMMIT, MANIFEST, OutputDir, OutputError, recorded_file, recover, sha256_of


def run_once(out: Path, files: dict[str, str], *, keep: tuple[str, ...] = ()) -> None:
    with OutputDir(out) as target:
        for rel, text in files.items():
            (target.staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (target.staging / rel).write_text(text)
        target.commit(options={"run": text}, keep=keep)


def test_a_run_replaces_its_own_files_and_never_the_instructors(tmp_path: Path) -> None:
    out = tmp_path / "graded"
    run_once(out, {"grades.csv": "one", "canvas.csv": "one", "feedback/alice/nb.html": "a"})
    (out / "feedback" / "alice" / "notes.txt").write_text("the instructor's")
    (out / "feedback" / "mine.txt").write_text("the instructor's")
    run_once(out, {"grades.csv": "two", "feedback/bob/nb.html": "b"})
    assert (out / "grades.csv").read_text() == "two"
    assert not (out / "canvas.csv").exists()  # written by the previous run only: stale, removed
    assert not (out / "feedback" / "alice" / "nb.html").exists()
    assert (out / "feedback" / "alice" / "notes.txt").read_text() == "the instructor's"
    assert (out / "feedback" / "mine.txt").exists()
    assert not list(out.glob(".staging-*")) and not (out / COMMIT).exists()


def test_keep_leaves_files_of_the_previous_set(tmp_path: Path) -> None:
    out = tmp_path / "graded"
    run_once(out, {"grades.csv": "one", "feedback/alice/nb.html": "a", "feedback/bob/nb.html": "b"})
    run_once(out, {"grades.csv": "two", "feedback/bob/nb.html": "b2"}, keep=("feedback/alice/nb.html",))
    assert (out / "feedback" / "alice" / "nb.html").read_text() == "a"
    with OutputDir(out) as target:
        target.verify()  # the manifest lists the kept page with its hash


def test_verify_finds_missing_changed_and_absent_manifests(tmp_path: Path) -> None:
    out = tmp_path / "graded"
    with OutputDir(out) as target, pytest.raises(OutputError, match="no complete grading run"):
        target.verify()
    run_once(out, {"grades.csv": "one", "results.json": "{}"})
    (out / "results.json").write_text("{")  # truncated
    with OutputDir(out) as target, pytest.raises(OutputError, match="results.json changed"):
        target.verify()
    (out / "results.json").unlink()
    with OutputDir(out) as target, pytest.raises(OutputError, match="results.json is missing"):
        target.verify()
    (out / MANIFEST).write_text("not json")
    with pytest.raises(OutputError, match="not a grading run's manifest"):
        OutputDir(out).__enter__()


def test_one_run_at_a_time(tmp_path: Path) -> None:
    out = tmp_path / "graded"
    with OutputDir(out), pytest.raises(OutputError, match="another grading run"):
        with OutputDir(out):
            pass


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import autograder.outputs as outputs
    out, when = Path(sys.argv[1]), sys.argv[2]
    real_replace = os.replace
    moves = 0
    def replace(src, dst):
        global moves
        moves += 1
        if when == "moving" and moves == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)
    outputs.os.replace = replace
    with outputs.OutputDir(out) as target:
        for i in range(4):
            (target.staging / f"file{i}.txt").write_text("new")
        if when == "staged":
            os.kill(os.getpid(), signal.SIGKILL)
        target.commit(options={})
    """
)


@pytest.mark.parametrize("when", ["staged", "moving"])
def test_sigkill_before_and_after_the_commit_point(tmp_path: Path, when: str) -> None:
    """Killed before the commit: the previous set stays. Killed while moving: the next open finishes the new set."""
    out = tmp_path / "graded"
    run_once(out, {f"file{i}.txt": "old" for i in range(4)} | {"old-only.txt": "old"})
    proc = subprocess.run([sys.executable, "-c", KILLER, str(out), when], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    if when == "staged":
        assert {p.read_text() for p in out.glob("file*.txt")} == {"old"}
    recover(out)
    with OutputDir(out) as target:
        target.verify()
    expected = "old" if when == "staged" else "new"
    assert {p.read_text() for p in out.glob("file*.txt")} == {expected}
    assert (out / "old-only.txt").exists() == (when == "staged")
    assert not list(out.glob(".staging-*")) and not (out / COMMIT).exists()
    assert os.listdir(out)  # nothing else vanished


def test_a_recorded_input_file_is_given_back_only_while_unchanged(tmp_path: Path) -> None:
    """A run's roster or extensions file, as its manifest records it: found, changed, gone."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\n1\n", encoding="utf-8")
    stored = {"path": str(roster), "sha256": sha256_of(roster)}
    assert recorded_file(stored) == roster
    roster.write_text("id\n1\n2\n", encoding="utf-8")
    assert recorded_file(stored) is None
    roster.unlink()
    assert recorded_file(stored) is None

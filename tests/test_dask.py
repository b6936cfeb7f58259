"""``grade --dask``: a real scheduler and two workers on 127.0.0.1, started by the test as subprocesses.

The same class is graded serially (``--jobs 1``, no Dask) and on the cluster:
the rows must be the same, also when a worker is SIGKILLed in the middle of the
run, and no process of the cluster may be left behind once it is stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from autograder.cluster import ClusterError, parse_address
from autograder.samples import solution_answers, submission

from .helpers import ClassResult, pending_status, read_results, run_cli, write_class

DASK = Path(sys.executable).parent / "dask"
CORRECT = solution_answers("corr2d")["corr2d"]
# seconds per cell are wall-clock: room for the memory hog to reach its limit on a loaded 2-core machine
GRADE_ARGS = ("--timeout", "8", "--notebook-timeout", "40", "--memory", "1G", "--no-similarity", "--quiet")

# the student's code tries to reach the worker's scheduler; its answer is right only if it cannot
REACH_DASK = """import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    REACHED = True
except OSError:
    REACHED = False

{correct}

_right = corr2d


def corr2d(X, K):
    return X * 0 if REACHED else _right(X, K)
"""


def answer(body: str) -> str:
    return "def corr2d(X, K):\n" + body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A ``dask scheduler`` and two ``dask worker --nthreads 1`` processes (each with its nanny)."""

    port: int
    processes: list[subprocess.Popen] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # every pid that ever belonged to the cluster

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def note(self) -> None:
        for p in self.processes:
            try:
                self.seen |= {c.pid for c in psutil.Process(p.pid).children(recursive=True)}
            except psutil.NoSuchProcess:
                pass

    def workers(self) -> list[psutil.Process]:
        """The worker processes (children of the nannies)."""
        found = []
        for p in self.processes[1:]:
            try:
                found += [c for c in psutil.Process(p.pid).children() if "autograder" not in " ".join(c.cmdline())]
            except psutil.NoSuchProcess:
                pass
        return found

    def stop(self) -> None:
        self.note()
        for p in reversed(self.processes):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.processes):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def leftovers(self, wait: float = 30.0) -> list[str]:
        """Processes of the cluster still running after :meth:`stop` (waiting up to ``wait`` s for them to end)."""
        deadline = time.monotonic() + wait
        while True:
            alive = []
            for pid in self.seen:
                try:
                    proc = psutil.Process(pid)
                    if proc.status() != psutil.STATUS_ZOMBIE:
                        alive.append(f"{pid} {' '.join(proc.cmdline())[:120]}")
                except psutil.NoSuchProcess:
                    pass
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.5)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster(_free_port())
    env = {**os.environ, "PATH": f"{DASK.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "env": env}
    try:
        c.processes.append(
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(c.port), "--no-dashboard"], **quiet
            )
        )
        for i in range(2):
            c.processes.append(
                subprocess.Popen(
                    [str(DASK), "worker", c.address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"], **quiet
                )
            )
        yield c
    finally:
        c.stop()


def _class(folder: Path, port: int) -> Path:
    notebooks = {
        "correct": submission("corr2d", {"corr2d": CORRECT}),
        "wrong": submission(
            "corr2d", {"corr2d": answer("    return X[: X.shape[0] - K.shape[0] + 1, : X.shape[1] - K.shape[1] + 1]\n")}
        ),
        "infinite_loop": submission("corr2d", {"corr2d": answer("    while True:\n        pass\n")}),
        "memory_hog": submission(
            "corr2d",
            {"corr2d": answer("    blocks = []\n    while True:\n        blocks.append(bytearray(256 * 2**20))\n")},
        ),
        "cheat": submission(
            "corr2d",
            {
                "corr2d": answer(
                    "    import torch\n    torch.allclose = lambda *a, **k: True\n"
                    "    torch.testing.assert_close = lambda *a, **k: None\n"
                    "    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)\n"
                )
            },
        ),
        "reach_dask": submission("corr2d", {"corr2d": REACH_DASK.format(port=port, correct=CORRECT)}),
    }
    return write_class(folder, "corr2d", notebooks)


def _rows(result: ClassResult) -> dict[str, tuple[str, str, str]]:
    return {sid: (row["score"], row["max_score"], row["status"]) for sid, row in result.rows.items()}


def _serial(submissions: Path, out: Path) -> ClassResult:
    proc = run_cli("grade", "corr2d", str(submissions), "--out", str(out), "--jobs", "1", *GRADE_ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_results(out, proc)


def test_a_cluster_grades_like_the_serial_run(cluster: Cluster, tmp_path: Path) -> None:
    """Correct, wrong, endless, memory-hungry and cheating submissions: the same rows as without Dask."""
    submissions = _class(tmp_path / "submissions", cluster.port)
    serial = _serial(submissions, tmp_path / "serial")
    proc = run_cli(
        "grade", "corr2d", str(submissions), "--out", str(tmp_path / "dask"), "--dask", cluster.address, *GRADE_ARGS
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    on_cluster = read_results(tmp_path / "dask", proc)
    assert _rows(on_cluster) == _rows(serial)
    # full marks before review are the autograded points; the written answer awaits a person
    assert on_cluster.score("correct") == on_cluster.autograded_max("correct") > 0
    assert on_cluster.status("correct") == pending_status("corr2d")
    assert on_cluster.score("wrong") < on_cluster.autograded_max("wrong")
    assert on_cluster.score("cheat") < on_cluster.autograded_max("cheat")
    assert on_cluster.score("infinite_loop") == on_cluster.score("memory_hog") == 0
    assert "ran out of time" in on_cluster.status("infinite_loop")
    # the student's code could not connect to the scheduler (its answer is right only then)
    assert on_cluster.score("reach_dask") == on_cluster.autograded_max("reach_dask")
    for sid in on_cluster.rows:  # the client wrote every page, the same page as the serial run
        page = Path("feedback") / sid / "corr2d.html"
        assert (tmp_path / "dask" / page).read_bytes() == (tmp_path / "serial" / page).read_bytes()
    # the workers' marks went into the run's gradebook as the serial run's did
    assert _gradebook(tmp_path / "dask") == _gradebook(tmp_path / "serial")
    assert len(_gradebook(tmp_path / "dask")) > len(on_cluster.rows)


def _gradebook(out: Path) -> list[tuple]:
    """Every submission's score and every grade and comment in ``out``'s nbgrader gradebook."""
    from nbgrader.api import Gradebook

    rows: list[tuple] = []
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for s in gb.assignment_submissions("corr2d"):
            rows.append((s.student_id, s.score, s.needs_manual_grade))
            for n in s.notebooks:
                rows += [(s.student_id, g.name, g.auto_score, g.needs_manual_grade) for g in n.grades]
                rows += [(s.student_id, c.name, c.auto_comment) for c in n.comments]
    return sorted(rows, key=repr)


def test_a_worker_killed_mid_run_changes_nothing(cluster: Cluster, tmp_path: Path) -> None:
    """SIGKILL a worker while it grades: its tasks run elsewhere, one row per student, the same scores."""
    submissions = _class(tmp_path / "submissions", cluster.port)
    serial = _serial(submissions, tmp_path / "serial")
    command = [sys.executable, "-m", "autograder", "grade", "corr2d", str(submissions), "--out", str(tmp_path / "dask")]
    proc = subprocess.Popen(
        [*command, "--dask", cluster.address, *GRADE_ARGS],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        cluster.note()
        for worker in cluster.workers():
            try:
                zygotes = [c for c in worker.children() if "autograder.zygote" in " ".join(c.cmdline())]
                if any(z.children() for z in zygotes):  # a test process is grading a submission
                    worker.send_signal(signal.SIGKILL)
                    killed = worker.pid
                    break
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, "no worker was seen grading"
    assert proc.returncode == 0, stderr[-3000:]
    on_cluster = read_results(tmp_path / "dask", subprocess.CompletedProcess(command, 0, stdout, stderr))
    assert sorted(on_cluster.rows) == sorted(serial.rows)  # one row per student
    assert {s: on_cluster.score(s) for s in serial.rows} == {s: serial.score(s) for s in serial.rows}
    cluster.stop()
    assert cluster.leftovers() == []


@pytest.mark.parametrize("text", ["local:0", "local:two", "tcp://nohost", "http://127.0.0.1:8786", "local:"])
def test_a_malformed_address_is_refused(text: str) -> None:
    with pytest.raises(ClusterError, match="local:N"):
        parse_address(text)


def test_addresses_are_read() -> None:
    assert parse_address("local:4") == (4, None)
    assert parse_address("tcp://10.0.0.5:8786") == (None, "tcp://10.0.0.5:8786")


def test_no_scheduler_exits_2_with_one_line(tmp_path: Path) -> None:
    submissions = write_class(tmp_path / "submissions", "corr2d", {"a": submission("corr2d", {"corr2d": CORRECT})})
    proc = run_cli(
        "grade", "corr2d", str(submissions), "--out", str(tmp_path / "out"), "--dask", f"tcp://127.0.0.1:{_free_port()}"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --dask tcp://127.0.0.1:")
    assert "no Dask scheduler" in proc.stderr

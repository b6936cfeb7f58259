"""The per-student jail: each attack a student can try from inside fails, and what a notebook needs works.

Every test forks a child of the test process (standing in for the zygote), calls
``jail.enter`` there, runs a function inside the jail and gets its JSON result
back through the one pipe the jail keeps.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograder import jail

REPO = Path(__file__).resolve().parents[2]
LIMITS = jail.Limits(memory=2**30, tmpfs=8 * 2**20, max_processes=16, max_file_bytes=32 * 2**20)
ROOT = os.geteuid() == 0
# "root": the test process as it is; "nobody": a child that dropped to uid 65534 first (a non-root zygote)
MODES = ["root", "nobody"] if ROOT else ["user"]
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
# clone, clone3, personality, socket, ioctl, getpid
NR = {"x86_64": (56, 435, 135, 41, 16, 39), "aarch64": (220, 435, 92, 198, 29, 172)}[platform.machine()]
CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS = 0x10000000, 0x40000000, 0x00020000


@pytest.fixture(scope="module", autouse=True)
def zygote() -> None:
    """Prepare the test process like a zygote (the Python installation readable), or skip without jails."""
    ok, why = jail.available()
    if not ok:
        pytest.skip(f"no jail here: {why}")
    jail.prepare_zygote(jail.python_readable_paths())


class Inside:
    """What a function running in the jail gets: a line channel out and a 'go' signal in."""

    def __init__(self, out: int, go: int) -> None:
        self.out, self.go = out, go

    def say(self, text: str) -> None:
        os.write(self.out, f"{text}\n".encode())

    def wait_go(self) -> None:
        os.read(self.go, 1)  # returns when the test closes its end


@dataclass
class Started:
    pid: int
    out: int
    go: int
    buffer: bytes = b""

    def line(self, timeout: float = 30) -> str:
        """The next line the jailed function said; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.out], [], [], left)[0], "the jail said nothing in time"
            chunk = os.read(self.out, 65536)
            assert chunk, "the jail ended without saying anything"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def eof(self, timeout: float) -> bool:
        """True when every holder of the jail's channel is gone within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.out], [], [], left)[0] and not os.read(self.out, 65536):
                return True
        return False


def become(mode: str) -> None:
    """In a forked child: turn into the kind of zygote `mode` names."""
    if mode == "nobody":
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        jail.prepare_zygote([])  # the Python installation lies below /root, out of reach of uid 65534


def start(
    fn: Callable[[Inside], Any],
    *,
    limits: jail.Limits = LIMITS,
    mode: str = MODES[0],
    readable: list[str] | None = None,
) -> Started:
    """Fork a child that enters a jail and runs fn(Inside) there; its result is the last line, as JSON.

    `readable`: the child prepares its own zygote plan with these paths first.
    """
    out_r, out_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        result: dict[str, Any] = {}
        try:
            os.close(out_r)
            os.close(go_w)
            become(mode)
            if readable is not None:
                jail.prepare_zygote(readable)
            jail.enter(limits, keep_fds=[out_w, go_r])
            result = {"result": fn(Inside(out_w, go_r))}
        except BaseException as exc:  # noqa: BLE001 (the child must end with os._exit)
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(out_w, (json.dumps(result) + "\n").encode())
        os._exit(0)
    os.close(out_w)
    os.close(go_r)
    return Started(pid, out_r, go_w)


def finish(started: Started, timeout: float = 60) -> Any:
    """Let the jailed function go on, and return what it returned; fails on its exception."""
    os.close(started.go)
    try:
        result = json.loads(started.line(timeout))
    finally:
        os.close(started.out)
        os.kill(started.pid, signal.SIGKILL)
        os.waitpid(started.pid, 0)
    assert "error" not in result, result["error"]
    return result["result"]


def run(fn: Callable[[Inside], Any], **kwargs: Any) -> Any:
    return finish(start(fn, **kwargs))


def errno_of(nr: int, *args: int) -> int:
    """errno of a raw system call (0 if it succeeded); a successful clone's child exits at once."""
    ctypes.set_errno(0)
    ret = LIBC.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    if ret == 0 and nr == NR[0]:
        os._exit(0)
    return 0 if ret >= 0 else ctypes.get_errno()


def failure(action: Callable[[], Any]) -> str:
    """Name of the OSError `action` raised ('ok' if it did not)."""
    try:
        action()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return "ok"


def test_available_says_why() -> None:
    """available() answers in words, naming the host uid the jails run as."""
    ok, why = jail.available()
    assert ok, why
    assert str(65534 if ROOT else os.geteuid()) in why


def test_no_jail_inside_a_jail_and_available_says_why() -> None:
    """Inside a jail no namespace can be made: available() explains, enter() raises JailError in the caller."""

    def inside(_: Inside) -> list[str]:
        jail._AVAILABLE = None  # this process's copy of the cache
        try:
            jail.enter(LIMITS, keep_fds=[])
        except jail.JailError as exc:
            return [str(jail.available()), str(exc)]
        return ["entered"]

    answer, error = run(inside)
    assert answer.startswith("(False,") and "Operation not permitted" in answer
    assert "cannot create the jail's namespaces" in error


@pytest.mark.parametrize("mode", MODES)
def test_identity_namespaces_and_privileges(mode: str) -> None:
    """Uid 1000 in its own user namespace, no capabilities, new namespaces, pid 2 of its own /proc."""
    outside = {
        name: os.readlink(f"/proc/self/ns/{name}") for name in ("user", "pid", "mnt", "net", "ipc", "uts", "cgroup")
    }

    def inside(_: Inside) -> dict[str, Any]:
        with open("/proc/self/status") as f:
            status = dict(line.rstrip("\n").split(":\t", 1) for line in f)
        return {
            "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
            "groups": os.getgroups(),
            "caps": {k: status[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
            "no_new_privs": status["NoNewPrivs"],
            "seccomp": status["Seccomp"],
            "pids": [os.getpid(), os.getppid()],
            "proc": sorted(p for p in os.listdir("/proc") if p.isdigit()),
            "same_ns": [n for n, link in outside.items() if os.readlink(f"/proc/self/ns/{n}") == link],
            "hostname": socket.gethostname(),
            "uid_map": open("/proc/self/uid_map").read().split(),
        }

    got = run(inside, mode=mode)
    assert got["ids"] == [1000] * 4
    assert got["groups"] == []
    assert set(got["caps"].values()) == {"0000000000000000"}, got["caps"]
    assert (got["no_new_privs"], got["seccomp"]) == ("1", "2")
    assert got["pids"] == [2, 1] and got["proc"] == ["1", "2"]
    assert got["same_ns"] == []
    assert got["hostname"] == "sandbox"
    assert got["uid_map"][0] == "1000" and got["uid_map"][2] == "1"


@pytest.mark.skipif(not ROOT, reason="the host uid matters when the zygote is root")
def test_a_root_zygote_jails_as_host_nobody() -> None:
    """Seen from the host, every process of the jail (pid 1 included) runs as uid and gid 65534."""
    started = start(lambda inside: (inside.say("ready"), inside.wait_go())[0])
    try:
        assert started.line() == "ready"
        chain, pid = [], started.pid
        for _ in range(2):
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                pid = int(f.read().split()[0])
            chain.append(pid)
        for pid in chain:
            with open(f"/proc/{pid}/status") as f:
                ids = {k: v.split() for k, v in (line.split(":", 1) for line in f) if k in ("Uid", "Gid")}
            assert ids == {"Uid": ["65534"] * 4, "Gid": ["65534"] * 4}, (pid, ids)
    finally:
        finish(started)


@pytest.mark.parametrize("mode", MODES)
def test_kernel_attack_surface_is_refused(mode: str) -> None:
    """Every call of the deny list gets EPERM; clone3 ENOSYS; no new namespaces; no tracing of pid 1."""
    clone, clone3, personality, sock, ioctl, getpid = NR
    host_pid = os.getpid()

    def inside(_: Inside) -> dict[str, Any]:
        got = {name: errno_of(nr, 0, 0, 0, 0, 0, 0) for name, nr in jail.denied_syscalls().items()}
        got["clone3"] = errno_of(clone3, 0, 0)
        for flag, name in ((CLONE_NEWUSER, "user"), (CLONE_NEWNET, "net"), (CLONE_NEWNS, "mnt")):
            got[f"clone_new{name}"] = errno_of(clone, flag | signal.SIGCHLD, 0, 0, 0, 0)
        got["personality_odd"] = errno_of(personality, 0x0040000)  # ADDR_NO_RANDOMIZE
        got["personality_query"] = errno_of(personality, 0xFFFFFFFF)
        got["vsock"] = errno_of(sock, 40, 1, 0)
        got["packet"] = errno_of(sock, 17, 3, 0)
        got["tiocsti"] = errno_of(ioctl, 0, 0x5412, 0)
        if platform.machine() == "x86_64":
            got["x32"] = errno_of(0x40000000 | getpid)
        got["ptrace_pid1"] = errno_of(101 if platform.machine() == "x86_64" else 117, 16, 1, 0, 0)
        got["proc_1_mem"] = failure(lambda: open("/proc/1/mem", "rb"))
        got["kill_host_pid"] = failure(lambda: os.kill(host_pid, signal.SIGSTOP))
        os.kill(1, signal.SIGKILL)  # allowed, and ignored by pid 1
        time.sleep(0.05)
        got["pid1_alive"] = failure(lambda: os.kill(1, 0))
        return got

    got = run(inside, mode=mode)
    denied = {name: got.pop(name) for name in jail.denied_syscalls()}
    assert set(denied.values()) == {errno.EPERM}, {k: v for k, v in denied.items() if v != errno.EPERM}
    assert got.pop("clone3") == errno.ENOSYS
    assert got.pop("personality_query") == 0
    assert {got.pop("vsock"), got.pop("packet")} == {errno.EAFNOSUPPORT}
    assert got.pop("proc_1_mem") in ("EPERM", "EACCES")
    assert got.pop("kill_host_pid") == "ESRCH"
    assert got.pop("pid1_alive") == "ok"
    assert set(got.values()) == {errno.EPERM}, got


@pytest.mark.parametrize("mode", MODES)
def test_file_system_is_read_only_and_private(mode: str) -> None:
    """Only the OS dirs and `readable` are visible, all read-only; /tmp, /dev/shm private; /dev minimal."""
    venv = sys.prefix if mode == "root" else "/usr"

    def write(path: str) -> None:
        with open(path, "w") as f:
            f.write("x")

    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def inside(_: Inside) -> dict[str, Any]:
        got = {
            f"write {p}": failure(lambda p=p: write(p)) for p in ("/x", "/usr/x", "/etc/x", f"{venv}/x.pth", "/dev/x")
        }
        got["write /proc/sys"] = failure(lambda: write("/proc/sys/kernel/hostname"))
        got["mkdir /dev/pts"] = failure(lambda: os.mkdir("/dev/pts2"))
        remount = subprocess.run(["/bin/mount", "-o", "remount,rw", "/usr"], capture_output=True, check=False)
        got["mount binary"] = remount.returncode
        got["unshare binary"] = subprocess.run(["/usr/bin/unshare", "-r", "true"], capture_output=True).returncode
        got["shadow"] = failure(lambda: read("/etc/shadow")) + str(
            len(read("/etc/shadow")) if os.access("/etc/shadow", os.R_OK) else ""
        )
        write("/tmp/ok")
        write("/dev/shm/ok")
        write("/dev/null")
        return {
            **got,
            "top": sorted(os.listdir("/")),
            "dev": sorted(os.listdir("/dev")),
            "pts": sorted(set(os.listdir("/dev/pts")) - {"ptmx"}),
            "root": sorted(os.listdir("/root")) if os.path.isdir("/root") else [],
            "repo": sorted(os.listdir(REPO)) if os.path.isdir(REPO) else [],
            "solutions": os.path.exists(REPO / "solutions"),
            "cwd": [os.getcwd(), os.environ["HOME"], sorted(os.listdir("/tmp"))],
            "random": len(os.read(os.open("/dev/urandom", os.O_RDONLY), 16)),
        }

    got = run(inside, mode=mode)
    for path in ("/x", "/usr/x", "/etc/x", f"{venv}/x.pth", "/dev/x", "/proc/sys"):
        assert got.pop(f"write {path}") in ("EROFS", "EACCES"), path
    assert got.pop("mkdir /dev/pts") == "EROFS"
    assert got.pop("mount binary") != 0 and got.pop("unshare binary") != 0
    assert got.pop("shadow") in ("EACCES", "ok0")  # masked by an empty file nobody may read
    # the Python installation is bound at its own path, wherever the course was cloned
    python_tops = {
        Path(q).parts[1]
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
        for q in (p, os.path.realpath(p))
        if len(Path(q).parts) > 1
    }
    os_tops = {"usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "tmp", "dev", "proc", "root"}
    assert set(got["top"]) <= os_tops | python_tops
    assert "solutions" not in got["top"] and "autograder" not in got["top"]
    nodes = ["null", "zero", "full", "random", "urandom", "shm", "pts", "ptmx", "fd", "stdin", "stdout", "stderr"]
    assert got["dev"] == sorted(nodes)
    assert got["pts"] == []  # a devpts instance of its own, none of the host's terminals
    assert set(got["root"]) <= {".pyenv"}
    assert set(got["repo"]) <= {".venv"} and not got["solutions"]
    # a venv below /tmp (a course cloned there) is bound at its own path: its mount point shows in /tmp
    mount_points = {
        Path(p).parts[2] for p in (sys.prefix, os.path.realpath(sys.prefix)) if Path(p).parts[1:2] == ("tmp",)
    }
    cwd, home, listing = got["cwd"]
    assert [cwd, home] == ["/tmp/work", "/tmp/work"]
    assert set(listing) - mount_points == {"ok", "work"}
    assert got["random"] == 16


def test_readable_paths_below_tmp_through_symlinks_and_files(tmp_path: Path) -> None:
    """A course below the host's /tmp (even a 0700 one), named through a symlink, and a single file, are
    readable and read-only inside; their siblings are not there."""
    (tmp_path / "course" / "pkg").mkdir(parents=True)
    (tmp_path / "course" / "pkg" / "helpers.py").write_text("HELP = 1\n")
    (tmp_path / "course" / "solutions").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "course" / "pkg")
    (tmp_path / "one.txt").write_text("one\n")
    (tmp_path / "secret.txt").write_text("secret\n")

    def inside(_: Inside) -> dict[str, Any]:
        return {
            "through alias": open(tmp_path / "alias" / "helpers.py").read(),
            "file": open(tmp_path / "one.txt").read(),
            "write": failure(lambda: open(tmp_path / "course" / "pkg" / "x.py", "w")),
            "listing": sorted(os.listdir(tmp_path)),
            "course": sorted(os.listdir(tmp_path / "course")),
        }

    got = finish(start(inside, readable=[str(tmp_path / "alias"), str(tmp_path / "one.txt")]))
    assert got["through alias"] == "HELP = 1\n" and got["file"] == "one\n"
    assert got["write"] == "EROFS"
    assert got["listing"] == ["alias", "course", "one.txt"] and got["course"] == ["pkg"]


def test_tmpfs_file_size_and_memory_caps() -> None:
    """/tmp and /dev/shm fill up at tmpfs (ENOSPC), a file stops at max_file_bytes, memory at RLIMIT_AS."""
    limits = jail.Limits(memory=2**28, tmpfs=4 * 2**20, max_file_bytes=2 * 2**20)

    def fill(path: str, files: int) -> str:
        def action() -> None:
            for i in range(files):
                with open(f"{path}/f{i}", "wb") as f:
                    for _ in range(2):
                        f.write(b"x" * 2**20)

        return failure(action)

    def inside(_: Inside) -> dict[str, str]:
        got = {"big file": failure(lambda: open("/tmp/work/big", "wb").write(b"x" * 3 * 2**20))}
        os.unlink("/tmp/work/big")
        got.update(tmp=fill("/tmp", 4), shm=fill("/dev/shm", 4))
        try:
            bytearray(2**29)
            got["memory"] = "ok"
        except MemoryError:
            got["memory"] = "MemoryError"
        return got

    assert run(inside, limits=limits) == {
        "tmp": "ENOSPC",
        "shm": "ENOSPC",
        "big file": "EFBIG",
        "memory": "MemoryError",
    }


def test_no_network_and_no_host_sockets() -> None:
    """Only a loopback of its own: neither the host's TCP listeners nor its abstract unix sockets are reachable."""
    listener = socket.create_server(("127.0.0.1", 0))
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(b"\0jail-test-%d" % os.getpid())
    abstract.listen()
    port = listener.getsockname()[1]

    def inside(_: Inside) -> dict[str, Any]:
        def unix() -> None:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(b"\0jail-test-%d" % os.getppid())

        return {
            "interfaces": [name for _, name in socket.if_nameindex()],
            "tcp host": failure(lambda: socket.create_connection(("127.0.0.1", port), timeout=2)),
            "tcp out": failure(lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)),
            "abstract": failure(unix),
        }

    try:
        got = run(inside)
    finally:
        listener.close()
        abstract.close()
    assert got["interfaces"] == ["lo"]
    assert got["tcp host"] in ("ENETUNREACH", "ECONNREFUSED") and got["tcp out"] == "ENETUNREACH"
    assert got["abstract"] == "ECONNREFUSED"


def test_environment_and_file_descriptors_are_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed environment (the zygote's original one wiped from memory too); only the kept fds stay open."""
    monkeypatch.setenv("GRADER_SECRET", "hunter2")
    stray = os.open("/etc/hostname", os.O_RDONLY)
    os.set_inheritable(stray, True)

    def inside(inside: Inside) -> dict[str, Any]:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])
        return {
            "env": dict(os.environ),
            "original env": ctypes.string_at(start, end - start).strip(b"\0").decode(errors="replace"),
            "fds": [fd for fd in range(1024) if failure(lambda fd=fd: os.fstat(fd)) == "ok"],
            "kept": sorted([inside.out, inside.go]),
            "stdio": [os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)],
        }

    try:
        got = run(inside)
    finally:
        os.close(stray)
    assert got["env"] == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp/work",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/work/.config/matplotlib",
        "OMP_NUM_THREADS": "1",
    }
    assert got["original env"] == ""
    assert got["fds"] == [0, 1, 2, *got["kept"]]
    assert got["stdio"] == ["/dev/null"] * 3


def test_threads_subprocesses_and_python_work() -> None:
    """Threads, a shell, `ls`, and a fresh interpreter of the venv all run inside."""

    def inside(_: Inside) -> dict[str, Any]:
        results: list[int] = []
        threads = [threading.Thread(target=lambda i=i: results.append(sum(range(i * 1000)))) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        python = subprocess.run(
            [sys.executable, "-c", "import json, sys; print(sys.prefix)"], capture_output=True, text=True
        )
        return {
            "threads": len(results),
            "sh": subprocess.run(["/bin/sh", "-c", "true"]).returncode,
            "ls": subprocess.run("ls /", shell=True, capture_output=True, text=True).stdout.split(),
            "python": [python.returncode, python.stdout.strip(), python.stderr[-500:]],
        }

    got = run(inside)
    assert got["threads"] == 4 and got["sh"] == 0
    assert "usr" in got["ls"] and "home" not in got["ls"]
    assert got["python"][:2] == [0, sys.prefix], got["python"]


def test_torch_and_matplotlib_work() -> None:
    """A small convolution with its backward pass, and an Agg figure saved to the workdir."""
    torch = pytest.importorskip("torch")
    pyplot = pytest.importorskip("matplotlib.pyplot")

    def inside(_: Inside) -> dict[str, Any]:
        torch.manual_seed(0)
        x = torch.randn(2, 3, 16, 16, requires_grad=True)
        conv = torch.nn.Conv2d(3, 4, 3)
        conv(x).square().mean().backward()
        figure = pyplot.figure()
        pyplot.plot([1, 2, 3])
        figure.savefig("plot.png")
        return {"grad": list(x.grad.shape), "weight": list(conv.weight.grad.shape), "png": os.path.getsize("plot.png")}

    got = run(inside)
    assert got["grad"] == [2, 3, 16, 16] and got["weight"] == [4, 3, 3, 3] and got["png"] > 0


def test_ipython_shell_commands_work() -> None:
    """IPython starts inside, and both forms of shell command run (`!cmd` needs a pty of the jail's own)."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    pytest.importorskip("pexpect")

    def inside(_: Inside) -> dict[str, Any]:
        # pytest's capture wraps fds the jail closed; a zygote's child writes to fds 1 and 2, now /dev/null
        sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
        shell = interactiveshell.InteractiveShell.instance()
        result = shell.run_cell("listing = !ls /\n!echo hi > from_shell")
        with open("from_shell") as f:
            return {"ok": repr(result.error_in_exec), "listing": list(shell.user_ns["listing"]), "echo": f.read()}

    got = run(inside)
    assert got["ok"] == "None" and "usr" in got["listing"] and got["echo"] == "hi\n", got


def _fork_until_refused(limit: int) -> int:
    """Fork sleeping children until the kernel refuses; the count of those that started."""
    count = 0
    while count < 4 * limit:
        try:
            pid = os.fork()
        except BlockingIOError:
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        count += 1
    return count


def test_fork_bomb_is_bounded_per_jail() -> None:
    """RLIMIT_NPROC counts one jail's tasks only: a full jail does not starve the next one."""
    limits = jail.Limits(memory=2**28, max_processes=8)

    def hog(inside: Inside) -> int:
        count = _fork_until_refused(8)
        inside.say(str(count))
        inside.wait_go()
        return count

    first = start(hog, limits=limits)
    try:
        held = int(first.line())
        second = run(lambda _: _fork_until_refused(8), limits=limits)
    finally:
        finish(first)
    # pid 1 and the jailed process count too: 8 tasks in all
    assert held == second == 6


def test_killing_the_waiter_kills_the_whole_jail() -> None:
    """SIGKILL of the zygote's child ends every process of the jail, a detached daemon included."""

    def inside(inside: Inside) -> None:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                time.sleep(60)
            os._exit(0)
        inside.say("ready")
        time.sleep(60)

    started = start(inside)
    try:
        assert started.line() == "ready"
        os.kill(started.pid, signal.SIGKILL)
        assert started.eof(timeout=5), "a process of the jail survived its waiter"
    finally:
        os.close(started.out)
        os.close(started.go)
        os.waitpid(started.pid, 0)


def test_exit_status_is_passed_up_and_leftovers_die() -> None:
    """The waiter exits with the jailed process's status; its daemons die with it."""

    def inside(inside: Inside) -> None:
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
            os._exit(0)
        os._exit(7)

    started = start(inside)
    try:
        assert started.eof(timeout=5), "a daemon outlived the jailed process"
        assert os.waitstatus_to_exitcode(os.waitpid(started.pid, 0)[1]) == 7
    finally:
        os.close(started.out)
        os.close(started.go)


def test_two_jails_share_nothing() -> None:
    """Files in /tmp and /dev/shm and SysV shared memory left by one jail are gone in the next."""
    key = 0x6A61696C

    def first(_: Inside) -> int:
        for path in ("/tmp/left", "/dev/shm/left", "/tmp/work/left"):
            with open(path, "w") as f:
                f.write("secret")
        return LIBC.shmget(key, 4096, 0o1666)  # IPC_CREAT | 0666

    def second(_: Inside) -> dict[str, Any]:
        return {
            "files": [p for p in ("/tmp/left", "/dev/shm/left", "/tmp/work/left") if os.path.exists(p)],
            "shm": LIBC.shmget(key, 0, 0),
        }

    assert run(first) >= 0
    assert run(second) == {"files": [], "shm": -1}


def test_bad_arguments_are_refused_before_anything_happens(tmp_path: Path) -> None:
    """Wrong fds, a workdir outside /tmp, forbidden or missing readable paths, non-positive caps."""
    with pytest.raises(ValueError, match="keep_fds"):
        jail.enter(LIMITS, keep_fds=[1])
    with pytest.raises(ValueError, match="workdir"):
        jail.enter(LIMITS, keep_fds=[], workdir="/home/student")
    with pytest.raises(ValueError, match="Limits.tmpfs"):
        jail.Limits(tmpfs=0)
    for path in ("/", "/tmp", "/proc/self"):
        with pytest.raises(ValueError, match="must not see"):
            jail._make_plan([path])
    with pytest.raises(jail.JailError, match="does not exist"):
        jail._make_plan([str(tmp_path / "missing")])

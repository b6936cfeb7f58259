"""A per-student jail built from Linux namespaces, read-only mounts, rlimits and a seccomp filter.

A warm zygote calls :func:`prepare_zygote` once and forks one child per
student; the child calls :func:`enter` before it reads untrusted input::

    P0, the zygote's child: unshares mount, pid, net, IPC, UTS and cgroup
     |  namespaces (in a first user namespace of its own when not root), waits
     +- P1, pid 1 of the jail: mounts the new root, pivots into it, becomes uid
         |  1000 of a second user namespace, installs the seccomp filter, reaps
         +- P2, the jailed process: rlimits, environment, fds; enter returns here

P0 and P1 exit with P2's status; P1 dies with P0 (PR_SET_PDEATHSIG) and the
kernel kills the whole pid namespace with P1, so a SIGKILL of P0 ends the jail.
All mounts belong to host root (or the first user namespace); the jailed
processes live in the second one, which owns none of their namespaces, so no
capability they could regain would let them touch a mount.

This package is the jailed side of the trust boundary: the jail itself, here,
and :mod:`autograder.jail.student`, which runs inside it with the student's
code. The trusted side is :mod:`autograder.trusted`; the two speak only
:mod:`autograder.framing`'s frames of :mod:`autograder.wire`'s values.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import resource
import select
import signal
import socket
import stat
import struct
import sys
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..limits import Limits

log = logging.getLogger(__name__)

JAIL_UID = 1000  # uid and gid inside the jail
NOBODY = 65534  # host uid and gid of the jail when the zygote runs as root
HOSTNAME = "sandbox"
STAGE = "/tmp"  # where the new root is assembled, in the jail's private mount namespace
OS_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
ETC_SECRETS = ("shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "security/opasswd", "ssl/private")
DEV_NODES = ("null", "zero", "full", "random", "urandom")
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
SETUP_FAILED = 125  # exit status of a jail whose set-up failed

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, 0x40000000
CLONE_NEW_ANY = 0x7E020000  # all of the above
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MNT_DETACH, AT_FDCWD, AT_RECURSIVE = 2, -100, 0x8000
READ_ONLY, ATTR_NOEXEC = 1 | 2 | 4, 8  # MOUNT_ATTR_RDONLY | _NOSUID | _NODEV, MOUNT_ATTR_NOEXEC
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_DROP = 1, 4, 22, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 38, 47, 4, 2

# name, x86_64 number, aarch64 number ("-": no such call there). Refused with EPERM:
# whatever mounts, traces, enters or makes namespaces, loads kernel code or changes the machine.
_DENIED = """
mount 165 40 | umount2 166 39 | pivot_root 155 41 | chroot 161 51 | ptrace 101 117 | process_vm_readv 310 270
process_vm_writev 311 271 | unshare 272 97 | setns 308 268 | bpf 321 280 | keyctl 250 219 | add_key 248 217
request_key 249 218 | perf_event_open 298 241 | kexec_load 246 104 | kexec_file_load 320 294 | init_module 175 105
finit_module 313 273 | delete_module 176 106 | reboot 169 142 | swapon 167 224 | swapoff 168 225
open_by_handle_at 304 265 | name_to_handle_at 303 264 | userfaultfd 323 282 | io_uring_setup 425 425
io_uring_enter 426 426 | io_uring_register 427 427 | open_tree 428 428 | move_mount 429 429 | fsopen 430 430
fsconfig 431 431 | fsmount 432 432 | fspick 433 433 | mount_setattr 442 442 | open_tree_attr 467 467
statmount 457 457 | listmount 458 458 | iopl 172 - | ioperm 173 - | acct 163 89 | quotactl 179 60
quotactl_fd 443 443 | settimeofday 164 170 | clock_settime 227 112 | adjtimex 159 171 | clock_adjtime 305 266
sethostname 170 161 | setdomainname 171 162 | kcmp 312 272 | lookup_dcookie 212 18 | syslog 103 116
pidfd_getfd 438 438 | process_madvise 440 440 | fanotify_init 300 262 | vhangup 153 58 | uselib 134 -
_sysctl 156 - | create_module 174 - | get_kernel_syms 177 - | query_module 178 - | nfsservctl 180 42
"""
# calls the filter looks into, and calls this module makes itself
_NR = {"clone": (56, 220), "clone3": (435, 435), "personality": (135, 92), "ioctl": (16, 29), "socket": (41, 198)}
_NR.update(pivot_root=(155, 41), mount_setattr=(442, 442), capset=(126, 91))
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # column of the tables, AUDIT_ARCH_*
_SOCKETS = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, 16)  # and AF_NETLINK; never AF_VSOCK, AF_PACKET...
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_J*|BPF_K, BPF_RET
_KILL, _ALLOW, _ERRNO = 0x80000000, 0x7FFF0000, 0x00050000  # SECCOMP_RET_KILL_PROCESS, _ALLOW, _ERRNO


class JailError(RuntimeError):
    """The jail could not be built; the calling process is not jailed and must not run untrusted code."""


@dataclass
class _Plan:
    """What every jail of this zygote mounts (host paths), computed once by prepare_zygote."""

    os_binds: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # path -> symlink target, as on the host
    masks: list[tuple[str, bool]] = field(default_factory=list)  # hidden under /etc: (path, is a directory)
    binds: list[str] = field(default_factory=list)  # real paths of `readable`
    program: bytes = field(default=b"", repr=False)  # the seccomp filter


_PLAN: _Plan | None = None
_AVAILABLE: tuple[bool, str] | None = None
_libc = ctypes.CDLL(None, use_errno=True)
if sys.platform == "linux":
    _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    _libc.syscall.restype = ctypes.c_long


def _arch() -> tuple[int, int]:
    """(table column, AUDIT_ARCH value) of this machine; raises JailError on an unsupported one."""
    if platform.machine() not in _ARCHES:
        raise JailError(f"no seccomp filter for {platform.machine()} (only x86_64 and aarch64)")
    return _ARCHES[platform.machine()]


def _check(result: int, what: str) -> None:
    """Raise OSError (with errno) when a libc call returned -1."""
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _syscall(name: str, *args: object) -> None:
    """Make a system call by name through libc's syscall(); raises OSError."""
    _check(_libc.syscall(ctypes.c_long(_NR[name][_arch()[0]]), *args), name)


def _prctl(option: int, arg: int = 0) -> None:
    """prctl(2) with one argument; raises OSError."""
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2); raises OSError."""
    enc = [None if x is None else os.fsencode(x) for x in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {source} on {target}")


def _set_attr(path: str, attrs: int, *, recursive: bool) -> None:
    """mount_setattr(2): add `attrs` (e.g. READ_ONLY) to the mount at `path`; raises OSError."""
    where = (ctypes.c_long(AT_FDCWD), os.fsencode(path), ctypes.c_long(AT_RECURSIVE if recursive else 0))
    _syscall("mount_setattr", *where, ctypes.byref((ctypes.c_uint64 * 4)(attrs, 0, 0, 0)), ctypes.c_long(32))


def _write(path: str, text: str) -> None:
    """Write a /proc file in one call; raises OSError."""
    with open(path, "w") as f:
        f.write(text)


def denied_syscalls() -> dict[str, int]:
    """Names and numbers of the calls refused with EPERM here; raises JailError on an unsupported arch.

    Also: clone3 ENOSYS (glibc falls back to clone); EPERM for clone with CLONE_NEW*, personality but
    PER_LINUX, ioctl TIOCSTI/TIOCLINUX, x32 calls; sockets but unix/inet/inet6/netlink EAFNOSUPPORT;
    another arch is killed.
    """
    column, words = _arch()[0], _DENIED.replace("|", " ").split()
    rows = (words[i : i + 3] for i in range(0, len(words), 3))
    return {name: int(nrs[column]) for name, *nrs in rows if nrs[column] != "-"}


def _filter_program(column: int, audit_arch: int) -> bytes:
    """The seccomp BPF program (struct sock_filter[]) for one architecture.

    Instructions are (code, jump if true, jump if false, k), jumps counting instructions skipped; loads
    read struct seccomp_data: arch at 4, call at 0, argument n at 16 + 8n (its low half: all checked
    arguments are 32-bit values for the kernel).
    """
    eperm = _ERRNO | errno.EPERM
    prog = [(_LD, 0, 0, 4), (_JEQ, 1, 0, audit_arch), (_RET, 0, 0, _KILL), (_LD, 0, 0, 0)]
    if column == 0:  # x32 calls come with the x86_64 arch and bit 30 set
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, eperm)]
    for number in denied_syscalls().values():
        prog += [(_JEQ, 0, 1, number), (_RET, 0, 0, eperm)]
    nr = {name: nrs[column] for name, nrs in _NR.items()}
    prog += [(_JEQ, 0, 1, nr["clone3"]), (_RET, 0, 0, _ERRNO | errno.ENOSYS)]
    # the low byte of clone's flags is the exit signal, so CLONE_NEWTIME cannot be asked for
    prog += [(_JEQ, 0, 4, nr["clone"]), (_LD, 0, 0, 16), (_JSET, 0, 1, CLONE_NEW_ANY), (_RET, 0, 0, eperm)]
    prog += [(_RET, 0, 0, _ALLOW)]
    for call, allowed, err in (("personality", (0, 0xFFFFFFFF), eperm), ("socket", _SOCKETS, errno.EAFNOSUPPORT)):
        prog += [(_JEQ, 0, len(allowed) + 3, nr[call]), (_LD, 0, 0, 16)]
        prog += [(_JEQ, len(allowed) - i, 0, value) for i, value in enumerate(allowed)]
        prog += [(_RET, 0, 0, _ERRNO | err), (_RET, 0, 0, _ALLOW)]
    # no faking terminal input (the jail has no terminal anyway); the last "allow" is for every call
    prog += [(_JEQ, 0, 4, nr["ioctl"]), (_LD, 0, 0, 24), (_JEQ, 1, 0, _TIOCSTI), (_JEQ, 0, 1, _TIOCLINUX)]
    prog += [(_RET, 0, 0, eperm), (_RET, 0, 0, _ALLOW)]
    return b"".join(struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF) for code, jt, jf, k in prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _install_filter(program: bytes) -> None:
    """Set no_new_privs and install the seccomp filter on the calling thread; raises OSError."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _etc_masks() -> list[tuple[str, bool]]:
    """What is hidden under /etc: the known secrets, and every file or directory others may not read."""
    masks: list[tuple[str, bool]] = []
    for top, dirs, files in os.walk("/etc"):
        for name in [*dirs, *files]:
            path = os.path.join(top, name)
            mode = os.lstat(path).st_mode
            need = 0o005 if stat.S_ISDIR(mode) else 0o004  # others may list a directory, read a file
            if (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) and (mode & need != need or path[5:] in ETC_SECRETS):
                masks.append((path, stat.S_ISDIR(mode)))
                if name in dirs:
                    dirs.remove(name)
    return masks


def _make_plan(readable: Sequence[str]) -> _Plan:
    """Compute the mounts of every jail; raises JailError for a missing path, ValueError for a forbidden one."""
    plan = _Plan(program=_filter_program(*_arch()), masks=_etc_masks())
    for top in OS_DIRS:
        if os.path.islink(top):
            plan.links[top] = os.readlink(top)
        elif os.path.isdir(top):
            plan.os_binds.append(top)
    reals = {os.path.realpath(path): path for path in readable}
    for real, path in sorted(reals.items()):
        if not os.path.exists(real):
            raise JailError(f"readable path {path} does not exist")
        if real in ("/", "/tmp") or _under(real, ("/proc", "/dev", "/sys")):
            raise ValueError(f"readable path {path} would expose {real}, which a jail must not see")
        if not _under(real, [*plan.os_binds, *plan.links, *plan.binds]):
            plan.binds.append(real)
    for path in sorted(map(os.path.abspath, readable)):  # a path reached through symlinks links to its target
        if os.path.realpath(path) != path and not _under(path, [*plan.os_binds, *plan.binds, *plan.links]):
            plan.links[path] = os.path.realpath(path)
    return plan


def python_readable_paths() -> list[str]:
    """The host paths of this Python installation, its venv and site-packages (outside the OS dirs).

    Other entries of sys.path are left out: one may be a course's repository, solutions and all.
    """
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sysconfig.get_paths().values()}
    paths.update(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages"))
    return sorted(p for p in paths if os.path.exists(p) and not _under(os.path.realpath(p), OS_DIRS))


def prepare_zygote(readable: list[str]) -> None:
    """Record what every jail of this process will see; call once at zygote start-up.

    `readable` are host paths (directories or files) the jailed child must be
    able to read, e.g. :func:`python_readable_paths` and the course package;
    besides them a jail sees only /usr, /lib*, /bin, /sbin and /etc (its
    secrets, and whatever others may not read, hidden), all read-only. Each jail
    binds them while still privileged, so a venv below a 0700 directory such as
    /root stays reachable although the jail runs as host uid 65534.

    Raises JailError if a path does not exist or the architecture is not
    supported, ValueError if a path would expose /, /tmp, /proc, /dev or /sys.
    """
    global _PLAN
    _PLAN = _make_plan(readable)
    log.debug("jail plan: binds %s, links %s, %d masks under /etc", _PLAN.binds, _PLAN.links, len(_PLAN.masks))


def _bind(source: str, target: str, *, directory: bool, flags: int = MS_REC, attrs: int = READ_ONLY) -> None:
    """Bind `source` at `target` (made first), with `attrs` added to the new mount(s); raises OSError."""
    os.makedirs(target if directory else os.path.dirname(target), mode=0o755, exist_ok=True)
    if not directory and not os.path.exists(target):
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
    _mount(source, target, None, MS_BIND | flags)
    if attrs:
        _set_attr(target, attrs, recursive=bool(flags & MS_REC))


def _tmpfs(target: str, size: int, mode: str, flags: int = MS_NOSUID | MS_NODEV) -> None:
    os.makedirs(target, mode=0o755, exist_ok=True)
    inodes = max(1024, min(65536, size // 4096))
    _mount("tmpfs", target, "tmpfs", flags, f"size={size},nr_inodes={inodes},mode={mode}")


def _build_root(plan: _Plan, limits: Limits) -> None:
    """Assemble the jail's root at STAGE (in the private mount namespace) and pivot into it; raises OSError."""
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
    # open the sources before anything is mounted over them (a venv may live below the host's /tmp)
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in (*plan.os_binds, *plan.binds)}
    try:
        _tmpfs(STAGE, 2**20, "0755")
        for path in plan.os_binds:
            _bind(f"/proc/self/fd/{fds[path]}", STAGE + path, directory=True)
        os.close(os.open(f"{STAGE}/.mask", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0))
        os.mkdir(f"{STAGE}/.maskdir", 0)
        for path, directory in plan.masks:
            _bind(f"{STAGE}/.mask{'dir' if directory else ''}", STAGE + path, directory=directory, flags=0)
        os.unlink(f"{STAGE}/.mask")
        os.rmdir(f"{STAGE}/.maskdir")
        _tmpfs(f"{STAGE}/tmp", limits.tmpfs, "1777")
        for path in plan.binds:
            _bind(f"/proc/self/fd/{fds[path]}", STAGE + path, directory=stat.S_ISDIR(os.fstat(fds[path]).st_mode))
    finally:
        for fd in fds.values():
            os.close(fd)
    for path, target in sorted(plan.links.items()):
        os.makedirs(os.path.dirname(STAGE + path), mode=0o755, exist_ok=True)
        os.symlink(target, STAGE + path)
    dev = f"{STAGE}/dev"
    _tmpfs(dev, 65536, "0755", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in DEV_NODES:
        _bind(f"/dev/{name}", f"{dev}/{name}", directory=False, flags=0, attrs=0)
    for name, target in (("fd", ""), ("stdin", "/0"), ("stdout", "/1"), ("stderr", "/2")):
        os.symlink(f"/proc/self/fd{target}", f"{dev}/{name}")
    _tmpfs(f"{dev}/shm", limits.tmpfs, "1777")
    os.mkdir(f"{dev}/pts")  # a devpts instance of its own, for IPython's `!cmd` (pexpect)
    _mount("devpts", f"{dev}/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,max=16")
    os.symlink("pts/ptmx", f"{dev}/ptmx")
    _set_attr(dev, READ_ONLY | ATTR_NOEXEC, recursive=False)
    # a fresh proc needs a fully visible proc in the mount namespace: the host's is still mounted here
    os.mkdir(f"{STAGE}/proc", 0o555)
    _mount("proc", f"{STAGE}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in ("sys", "sysrq-trigger", "irq", "bus"):
        path = f"{STAGE}/proc/{name}"
        if os.path.exists(path):
            _bind(path, path, directory=os.path.isdir(path))
    socket.sethostname(HOSTNAME)
    _set_attr(STAGE, READ_ONLY, recursive=False)
    os.chdir(STAGE)
    _syscall("pivot_root", b".", b".")
    _check(_libc.umount2(b".", ctypes.c_int(MNT_DETACH)), "detaching the host's root")
    os.chdir("/")


def _become_jail_user(root: bool) -> None:
    """Drop every privilege: uid 1000 of a new user namespace, mapped to an unprivileged host uid; raises OSError."""
    if root:
        # the limit a new user namespace keeps for its parent's count (see _set_limits)
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        _prctl(PR_SET_DUMPABLE, 1)  # setuid made us undumpable, which makes /proc/self/*_map root's
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(ctypes.c_int(CLONE_NEWUSER)), "unshare")
    _write("/proc/self/uid_map", f"{JAIL_UID} {uid} 1\n")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/gid_map", f"{JAIL_UID} {gid} 1\n")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        for cap in range(int(f.read()) + 1):
            _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _syscall("capset", ctypes.byref(header), ctypes.byref((ctypes.c_uint32 * 6)()))


def _clean_environment(workdir: str) -> None:
    """Replace the environment, and wipe the zygote's original one from the stack (/proc/self/environ)."""
    os.environ.clear()
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50 and 51)
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)
    os.environ.update(ENV, HOME=workdir, MPLCONFIGDIR=f"{workdir}/.config/matplotlib")


def _set_limits(limits: Limits) -> None:
    """Set the jail's rlimits on the calling process; raises OSError.

    RLIMIT_NPROC: since Linux 5.14 a task is charged to its (user namespace,
    uid) pair and to each pair up the chain; the lowest is checked against the
    caller's RLIMIT_NPROC, the others against the limit in force when each
    namespace was made. The jail's uid lives in a user namespace of its own, so
    the limit counts this jail's tasks (threads included) only, never the
    zygote's or other students', although all of them share one host uid.
    """
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    caps = [mapped + limits.memory, limits.max_processes, limits.max_open_files, limits.max_file_bytes, 0, 0, 0]
    for kind, value in zip(("AS", "NPROC", "NOFILE", "FSIZE", "CORE", "MEMLOCK", "MSGQUEUE"), caps):
        resource.setrlimit(getattr(resource, f"RLIMIT_{kind}"), (value, value))


def _close_fds(keep: set[int]) -> None:
    for low, high in zip([0, *(fd + 1 for fd in sorted(keep))], [*sorted(keep), 2**31 - 1]):
        if high > low:  # os.closerange(0, 0) would become close_range(0, ~0): every fd
            os.closerange(low, high)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _die_with_parent(alive: int) -> None:
    """Be killed when the parent dies; exit now if it already has (`alive`: a pipe it writes, or -1: ppid 1)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if select.select([alive], [], [], 0)[0] if alive >= 0 else os.getppid() != 1:
        os._exit(SETUP_FAILED)


def _pid1(plan: _Plan, limits: Limits, keep: set[int], workdir: str, pipes: tuple[int, int], root: bool) -> bool:
    """Build the jail as its pid 1; returns True in the jailed child, never in pid 1 itself; raises OSError.

    `pipes`: write end of the status pipe to P0, read end of a pipe only P0 writes.
    Signals stay blocked in pid 1, and in the child until it is ready.
    """
    status_w, alive_r = pipes
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    _build_root(plan, limits)
    _become_jail_user(root)
    os.setsid()
    _clean_environment(workdir)
    _prctl(PR_SET_DUMPABLE, 0)  # no one in the jail may trace pid 1 or read its memory
    _install_filter(plan.program)
    _die_with_parent(alive_r)
    os.close(alive_r)
    child = os.fork()
    if child == 0:
        _die_with_parent(-1)
        _set_limits(limits)
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        os.chdir(workdir)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.write(status_w, b"K")
        _close_fds(keep | {0, 1, 2})
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        return True
    _close_fds(set())
    while True:  # reap orphans until the jailed child ends; the kernel then kills the rest
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(SETUP_FAILED)
        if pid == child:
            os._exit(_exit_code(status))


def _enter(plan: _Plan, limits: Limits, keep_fds: Sequence[int], workdir: str) -> None:
    keep, workdir = set(keep_fds), os.path.normpath(workdir)
    if not keep <= {int(fd) for fd in os.listdir("/proc/self/fd")} - {0, 1, 2}:
        raise ValueError(f"keep_fds must be open file descriptors above 2 (0-2 become /dev/null): {keep_fds!r}")
    if not workdir.startswith("/tmp/"):
        raise ValueError(f"workdir must lie inside the jail's private /tmp, got {workdir!r}")
    root, uid, gid = os.geteuid() == 0, os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
    try:
        # when not root, first become root of a user namespace that owns all the others
        _check(_libc.unshare(ctypes.c_int(flags if root else flags | CLONE_NEWUSER)), "unshare")
        if not root:
            _prctl(PR_SET_DUMPABLE, 1)  # an undumpable process's /proc/self/*_map are root's
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1\n")
            _write("/proc/self/gid_map", f"0 {gid} 1\n")
    except OSError as exc:
        hint = "; is the caller single-threaded?" if exc.errno == errno.EINVAL else ""
        raise JailError(f"cannot create the jail's namespaces ({exc}){hint}") from exc
    status_r, status_w = os.pipe()
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        jailed = False
        try:
            os.close(status_r)
            os.close(alive_w)
            jailed = _pid1(plan, limits, keep, workdir, (status_w, alive_r), root)
        except BaseException as exc:  # noqa: BLE001 (pid 1 and the child must never return to the caller)
            try:
                os.write(status_w, f"E{type(exc).__name__}: {exc}".encode()[:4000])
            except OSError:
                log.debug("jail set-up failed and its waiter is gone: %s", exc)
        if not jailed:
            os._exit(SETUP_FAILED)
        return
    os.close(status_w)
    os.close(alive_r)
    try:
        with os.fdopen(status_r, "rb") as f:
            report = f.read()
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    if report != b"K":
        status = _exit_code(os.waitpid(pid, 0)[1])
        os.close(alive_w)
        raise JailError(f"cannot build the jail: {report[1:].decode(errors='replace') or f'status {status}'}")
    for sig in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        signal.signal(sig, signal.SIG_DFL)  # a signal that ends this process now ends the whole jail
    _close_fds({alive_w})
    os._exit(_exit_code(os.waitpid(pid, 0)[1]))


def enter(limits: Limits, *, keep_fds: Sequence[int], workdir: str = "/tmp/work") -> None:
    """Jail the calling process; call in a freshly forked, single-threaded child of the zygote.

    Returns only in the jailed process: pid 2 of a new pid namespace, uid and
    gid 1000 of a user namespace of its own (host uid 65534 under a root
    zygote, else the zygote's), no capabilities, seccomp, the rlimits of
    `limits`, cwd and HOME `workdir`, a fixed environment, fds 0-2 on /dev/null
    and every fd but `keep_fds` closed. The calling process becomes a waiter
    that exits with the jailed process's status (128+N for signal N); killing
    it kills every process of the jail.

    Raises ValueError for a bad fd or a workdir outside /tmp, JailError if
    prepare_zygote was not called or the jail cannot be built; after a
    JailError the caller is not jailed (though maybe in new namespaces) and
    must not run untrusted code.
    """
    if _PLAN is None:
        raise JailError("prepare_zygote() must be called before enter()")
    _enter(_PLAN, limits, keep_fds, workdir)


def available() -> tuple[bool, str]:
    """Whether a jail can be built here, and if not why, in words (cached).

    Builds a real jail in a forked child, so call it early, before the process
    has threads that might hold locks.
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = _probe()
        log.debug("jail available: %s", _AVAILABLE)
    return _AVAILABLE


def _probe() -> tuple[bool, str]:
    """Build a jail in a forked child: (True, what works) or (False, why not)."""
    if sys.platform != "linux":
        return False, f"jails need Linux namespaces, this is {sys.platform}"
    try:
        plan = _PLAN or _make_plan([])
    except JailError as exc:
        return False, str(exc)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        message = b"ok"
        try:
            os.close(read_fd)
            _enter(plan, Limits(memory=2**28), keep_fds=[write_fd], workdir="/tmp/probe")
        except BaseException as exc:  # noqa: BLE001 (the probe must end with os._exit)
            message = str(exc).encode()
        os.write(write_fd, message)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        answer = f.read().decode(errors="replace")
    status = _exit_code(os.waitpid(pid, 0)[1])
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    if answer == "ok" and status == 0:
        return True, f"user, pid, mount, net, IPC, UTS, cgroup namespaces, seccomp: jails run as host uid {uid}"
    return False, answer or f"the probe died with status {status}"

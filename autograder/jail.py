"""A per-student jail built from Linux namespaces, read-only mounts, rlimits and a seccomp filter.

A warm zygote (trusted, torch imported) calls :func:`prepare_zygote` once and
forks one child per student; that child calls :func:`enter` before it reads any
untrusted input. ``enter`` builds the jail in three processes::

    P0 (the zygote's child) -- unshares mount, pid, net, IPC, UTS and cgroup
      |                        namespaces (plus a user namespace when not root)
      +- P1 (pid 1 of the jail) -- mounts the new root, pivots into it, drops to an
           |                        unprivileged uid in a user namespace of its own,
           |                        installs the seccomp filter, then only reaps
           +- P2 (the jailed process) -- rlimits, environment, fds; ``enter`` returns here

P0 and P1 wait and ``_exit`` with P2's status; P1 dies with P0
(``PR_SET_PDEATHSIG``) and the kernel kills every process of the pid namespace
when P1 dies, so a SIGKILL of P0 ends the whole jail.

Every mount is made while still privileged (host root, or root of a first user
namespace when the zygote is not root) and belongs to that user namespace; the
jailed processes live in a second, nested user namespace that owns none of the
namespaces they use, so they cannot change a mount even with capabilities.
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

log = logging.getLogger(__name__)

JAIL_UID = 1000  # uid and gid seen inside the jail
NOBODY = 65534  # host uid and gid of the jail when the zygote runs as root
HOSTNAME = "sandbox"
STAGE = "/tmp"  # where the new root is assembled, inside the child's private mount namespace
OS_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
ETC_SECRETS = ("shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "security/opasswd", "ssl/private")
DEV_NODES = ("null", "zero", "full", "random", "urandom")
FORBIDDEN_READABLE = ("/proc", "/dev", "/sys")  # never bound from the host
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
SETUP_FAILED = 125  # exit status of a jail whose set-up failed

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, 0x40000000
CLONE_NEW_ANY = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MNT_DETACH, AT_FDCWD, AT_RECURSIVE = 2, -100, 0x8000
ATTR_RDONLY, ATTR_NOSUID, ATTR_NODEV, ATTR_NOEXEC = 1, 2, 4, 8
READ_ONLY = ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_DROP = 1, 4, 22, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 38, 47, 4, 2

# name, x86_64 number, aarch64 number ("-": the call does not exist there).
# Refused with EPERM: everything that mounts, traces, enters or makes namespaces,
# loads code into the kernel or changes the machine.
_DENIED = """
mount 165 40          umount2 166 39         pivot_root 155 41      chroot 161 51
ptrace 101 117        process_vm_readv 310 270  process_vm_writev 311 271
unshare 272 97        setns 308 268          bpf 321 280            keyctl 250 219
add_key 248 217       request_key 249 218    perf_event_open 298 241
kexec_load 246 104    kexec_file_load 320 294  init_module 175 105  finit_module 313 273
delete_module 176 106 reboot 169 142         swapon 167 224         swapoff 168 225
open_by_handle_at 304 265  name_to_handle_at 303 264  userfaultfd 323 282
io_uring_setup 425 425  io_uring_enter 426 426  io_uring_register 427 427
open_tree 428 428     move_mount 429 429     fsopen 430 430         fsconfig 431 431
fsmount 432 432       fspick 433 433         mount_setattr 442 442  open_tree_attr 467 467
statmount 457 457     listmount 458 458      iopl 172 -             ioperm 173 -
acct 163 89           quotactl 179 60        quotactl_fd 443 443    settimeofday 164 170
clock_settime 227 112 adjtimex 159 171       clock_adjtime 305 266  sethostname 170 161
setdomainname 171 162 kcmp 312 272           lookup_dcookie 212 18  syslog 103 116
pidfd_getfd 438 438   process_madvise 440 440  fanotify_init 300 262  vhangup 153 58
uselib 134 -          _sysctl 156 -          create_module 174 -    get_kernel_syms 177 -
query_module 178 -    nfsservctl 180 42
"""
# calls the filter treats specially, and the ones this module makes itself
_SPECIAL = {"clone": (56, 220), "clone3": (435, 435), "personality": (135, 92), "ioctl": (16, 29), "socket": (41, 198)}
_OWN = {"pivot_root": (155, 41), "mount_setattr": (442, 442), "capset": (126, 91)}
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # index into the tables, AUDIT_ARCH_*
_ALLOWED_SOCKETS = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, 16)  # 16: AF_NETLINK; never AF_VSOCK etc.
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_RET_KILL, _RET_ALLOW, _RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000


class JailError(RuntimeError):
    """The jail could not be built; the calling process is not jailed and must not run untrusted code."""


@dataclass(frozen=True)
class JailLimits:
    """Resource caps of one jail; every process of the jail gets the rlimits."""

    memory_bytes: int  # RLIMIT_AS on top of what the process already maps (the warm zygote maps torch)
    tmpfs_bytes: int = 64 * 2**20  # size= of each private tmpfs (/tmp, /dev/shm)
    max_processes: int = 64  # RLIMIT_NPROC, counted in the jail's own user namespace (see _set_limits)
    max_open_files: int = 256
    max_file_bytes: int = 64 * 2**20  # RLIMIT_FSIZE

    def __post_init__(self) -> None:
        """Raises ValueError for a cap that is not a positive integer."""
        for name in ("memory_bytes", "tmpfs_bytes", "max_processes", "max_open_files", "max_file_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"JailLimits.{name} must be a positive integer, got {value!r}")


@dataclass
class _Plan:
    """What every jail of this zygote mounts, computed once by prepare_zygote (host paths)."""

    os_binds: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # path -> symlink target, as on the host
    masks: list[tuple[str, bool]] = field(default_factory=list)  # (path, is a directory) hidden under /etc
    binds: list[str] = field(default_factory=list)  # real paths of `readable`
    program: bytes = field(default=b"", repr=False)


_PLAN: _Plan | None = None
_AVAILABLE: tuple[bool, str] | None = None
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long


def _arch() -> tuple[int, int]:
    """(table index, AUDIT_ARCH value) of this machine; raises JailError on an unsupported one."""
    machine = platform.machine()
    if machine not in _ARCHES:
        raise JailError(f"no seccomp filter for the {machine} architecture (only x86_64 and aarch64)")
    return _ARCHES[machine]


def _check(result: int, what: str) -> int:
    """Raise OSError (with errno) when a libc call returned -1."""
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def _syscall(name: str, *args: object) -> int:
    """Call a system call by name through libc's syscall(); raises OSError on failure."""
    nr = _OWN[name][_arch()[0]]
    return _check(_libc.syscall(ctypes.c_long(nr), *args), name)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2); raises OSError."""
    enc = [os.fsencode(x) if x is not None else None for x in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {source} on {target}")


def _set_attr(path: str, attrs: int, *, recursive: bool) -> None:
    """mount_setattr(2): add `attrs` (e.g. read-only) to the mount at `path`; raises OSError."""
    attr = (ctypes.c_uint64 * 4)(attrs, 0, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    _syscall(
        "mount_setattr",
        ctypes.c_long(AT_FDCWD),
        os.fsencode(path),
        ctypes.c_long(flags),
        ctypes.byref(attr),
        ctypes.c_long(32),
    )


def _prctl(option: int, arg: int = 0) -> None:
    """prctl(2) with one argument; raises OSError."""
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def _unshare(flags: int) -> None:
    """unshare(2); raises OSError (EINVAL usually means the caller has threads)."""
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def _write(path: str, text: str) -> None:
    """Write a small file in one call (for /proc files); raises OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# ---------------------------------------------------------------- seccomp


def _filter_program(arch_index: int, audit_arch: int) -> bytes:
    """The seccomp BPF program (struct sock_filter[]) for one architecture."""

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)

    def load(offset: int) -> bytes:  # BPF_LD | BPF_W | BPF_ABS on struct seccomp_data
        return op(0x20, offset)

    def ret(value: int) -> bytes:  # BPF_RET | BPF_K
        return op(0x06, value)

    def jeq(k: int, jt: int, jf: int) -> bytes:
        return op(0x15, k, jt, jf)

    def arg(n: int) -> int:  # low 32 bits of argument n (little endian); the calls below take 32-bit values
        return 16 + 8 * n

    eperm = _RET_ERRNO | errno.EPERM
    prog = [load(4), jeq(audit_arch, 1, 0), ret(_RET_KILL), load(0)]
    if arch_index == 0:  # x32 system calls come with the x86_64 arch and bit 30 set
        prog += [op(0x35, 0x40000000, 0, 1), ret(eperm)]  # BPF_JGE
    for nr_denied in _denied_numbers(arch_index).values():
        prog += [jeq(nr_denied, 0, 1), ret(eperm)]
    nr = {name: nrs[arch_index] for name, nrs in _SPECIAL.items()}
    prog += [jeq(nr["clone3"], 0, 1), ret(_RET_ERRNO | errno.ENOSYS)]  # glibc falls back to clone
    # clone: refused when any CLONE_NEW* flag is set (the low byte is the exit signal, so no CLONE_NEWTIME)
    prog += [jeq(nr["clone"], 0, 4), load(arg(0)), op(0x45, CLONE_NEW_ANY, 0, 1), ret(eperm), ret(_RET_ALLOW)]

    def allow_only(call: int, n: int, allowed: Sequence[int], err: int) -> list[bytes]:
        count = len(allowed)
        checks = [jeq(v, count - i, 0) for i, v in enumerate(allowed)]
        return [jeq(call, 0, count + 3), load(arg(n)), *checks, ret(err), ret(_RET_ALLOW)]

    prog += allow_only(nr["personality"], 0, (0, 0xFFFFFFFF), eperm)  # PER_LINUX or a query
    prog += allow_only(nr["socket"], 0, _ALLOWED_SOCKETS, _RET_ERRNO | errno.EAFNOSUPPORT)
    # ioctl: no faking terminal input (the jail has no terminal; belt and braces)
    prog += [jeq(nr["ioctl"], 0, 4), load(arg(1)), jeq(_TIOCSTI, 1, 0), jeq(_TIOCLINUX, 0, 1), ret(eperm)]
    prog += [ret(_RET_ALLOW)]  # the ioctl block's "allow" too
    return b"".join(prog)


def _denied_numbers(arch_index: int) -> dict[str, int]:
    words = _DENIED.split()
    rows = (words[i : i + 3] for i in range(0, len(words), 3))
    return {name: int(nrs[arch_index]) for name, *nrs in rows if nrs[arch_index] != "-"}


def denied_syscalls() -> dict[str, int]:
    """Names and numbers of the system calls the filter refuses with EPERM on this machine (clone3: ENOSYS;
    clone with CLONE_NEW*, odd personalities, sockets other than unix/inet/inet6/netlink and
    TIOCSTI/TIOCLINUX are refused too). Raises JailError on an unsupported architecture."""
    return _denied_numbers(_arch()[0])


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _install_filter(program: bytes) -> None:
    """Set no_new_privs and install the seccomp filter on the calling thread; raises OSError."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


# ---------------------------------------------------------------- the plan


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _alias_links(path: str, covered: Sequence[str], links: dict[str, str], depth: int = 0) -> None:
    """Record the host symlinks on the way to `path` that are not visible through a bind."""
    if depth > 40:
        raise JailError(f"too many levels of symbolic links below {path}")
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        prefix = "/" + "/".join(parts[:i])
        if _under(prefix, covered) or _under(prefix, list(links)):
            return
        if os.path.islink(prefix):
            links[prefix] = os.readlink(prefix)
            target = os.path.join(os.path.dirname(prefix), links[prefix], *parts[i:])
            _alias_links(os.path.normpath(target), covered, links, depth + 1)
            return


def _etc_masks() -> list[tuple[str, bool]]:
    """Files and directories under /etc that are hidden: known secrets and whatever others may not read."""
    masks: list[tuple[str, bool]] = []
    for top, dirs, files in os.walk("/etc"):
        for name in list(dirs):
            path = os.path.join(top, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and (mode & 0o005 != 0o005 or path[5:] in ETC_SECRETS):
                masks.append((path, True))
                dirs.remove(name)
        for name in files:
            path = os.path.join(top, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode) and (mode & 0o004 == 0 or path[5:] in ETC_SECRETS):
                masks.append((path, False))
    return masks


def _make_plan(readable: Sequence[str]) -> _Plan:
    """Compute the mounts of every jail; raises JailError for a missing path, ValueError for a forbidden one."""
    plan = _Plan(program=_filter_program(*_arch()))
    for top in OS_DIRS:
        if os.path.islink(top):
            plan.links[top] = os.readlink(top)
        elif os.path.isdir(top):
            plan.os_binds.append(top)
    plan.masks = _etc_masks()
    covered = [*plan.os_binds, *plan.links]
    reals: list[str] = []
    for path in readable:
        real = os.path.realpath(path)
        if not os.path.exists(real):
            raise JailError(f"readable path {path} does not exist")
        if real in ("/", "/tmp") or _under(real, FORBIDDEN_READABLE):
            raise ValueError(f"readable path {path} would expose {real}, which a jail must not see")
        reals.append(real)
    for real in sorted(set(reals)):
        if not _under(real, covered + plan.binds):
            plan.binds.append(real)
    for path in readable:
        _alias_links(os.path.abspath(path), covered + plan.binds, plan.links)
    return plan


def python_readable_paths() -> list[str]:
    """The host paths of this Python installation and its venv, to pass to prepare_zygote."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sysconfig.get_paths().values()}
    return sorted(p for p in paths if os.path.exists(p) and not _under(os.path.realpath(p), OS_DIRS))


def prepare_zygote(readable: list[str]) -> None:
    """Record what every jail of this process will see; call once at zygote start-up.

    `readable` are host paths (directories or files) the jailed child must be
    able to read, e.g. :func:`python_readable_paths` and the course package;
    besides them a jail sees only /usr, /lib*, /bin, /sbin and /etc (its secrets
    and every file others may not read hidden), all read-only. The binds are
    made by each jail while it is still privileged, so a venv below a 0700
    directory such as /root stays reachable although the jail runs as uid 65534.

    Raises JailError if a path does not exist or the architecture is not
    supported, ValueError if a path would expose /, /tmp, /proc, /dev, /sys or an
    OS directory.
    """
    global _PLAN
    _PLAN = _make_plan(readable)
    log.debug("jail plan: binds %s, links %s, %d masks under /etc", _PLAN.binds, _PLAN.links, len(_PLAN.masks))


# ---------------------------------------------------------------- building a jail (P1)


def _mountpoint(path: str, directory: bool) -> None:
    os.makedirs(path if directory else os.path.dirname(path), mode=0o755, exist_ok=True)
    if not directory and not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))


def _bind_ro(fd: int, target: str) -> None:
    """Bind the path open as `fd` (O_PATH) read-only, with its submounts, at `target`; raises OSError."""
    _mountpoint(target, stat.S_ISDIR(os.fstat(fd).st_mode))
    _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    _set_attr(target, READ_ONLY, recursive=True)


def _tmpfs(target: str, size: int, mode: str, flags: int = MS_NOSUID | MS_NODEV) -> None:
    os.makedirs(target, mode=0o755, exist_ok=True)
    inodes = max(1024, min(65536, size // 4096))
    _mount("tmpfs", target, "tmpfs", flags, f"size={size},nr_inodes={inodes},mode={mode}")


def _build_root(plan: _Plan, limits: JailLimits) -> None:
    """Assemble the jail's root at STAGE (in the private mount namespace) and pivot into it; raises OSError."""
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
    # sources are opened before anything is mounted over them (a venv may live below the host's /tmp)
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in (*plan.os_binds, *plan.binds)}
    try:

        def at(path: str) -> str:
            return STAGE + path

        _tmpfs(STAGE, 2**20, "0755")
        for path in plan.os_binds:
            _bind_ro(fds[path], at(path))
        mask_file, mask_dir = at("/.mask"), at("/.maskdir")
        os.close(os.open(mask_file, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0))
        os.mkdir(mask_dir, 0)
        for path, directory in plan.masks:
            _mount(mask_dir if directory else mask_file, at(path), None, MS_BIND)
            _set_attr(at(path), READ_ONLY, recursive=False)
        os.unlink(mask_file)
        os.rmdir(mask_dir)
        _tmpfs(at("/tmp"), limits.tmpfs_bytes, "1777")
        for path in plan.binds:
            _bind_ro(fds[path], at(path))
    finally:
        for fd in fds.values():
            os.close(fd)
    for path, target in sorted(plan.links.items()):
        os.makedirs(os.path.dirname(at(path)), mode=0o755, exist_ok=True)
        os.symlink(target, at(path))
    dev = at("/dev")
    _tmpfs(dev, 65536, "0755", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in DEV_NODES:
        _mountpoint(f"{dev}/{name}", False)
        _mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "0"), ("stdout", "1"), ("stderr", "2")):
        os.symlink(target if name == "fd" else f"/proc/self/fd/{target}", f"{dev}/{name}")
    _tmpfs(f"{dev}/shm", limits.tmpfs_bytes, "1777")
    _set_attr(dev, READ_ONLY | ATTR_NOEXEC, recursive=False)
    # needs a fully visible proc in this mount namespace: the host's /proc is still mounted here
    os.mkdir(at("/proc"), 0o555)
    _mount("proc", at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in ("sys", "sysrq-trigger", "irq", "bus"):
        path = at(f"/proc/{name}")
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _set_attr(path, READ_ONLY, recursive=True)
    socket.sethostname(HOSTNAME)
    _set_attr(STAGE, READ_ONLY, recursive=False)
    os.chdir(STAGE)
    _syscall("pivot_root", b".", b".")
    _check(_libc.umount2(b".", MNT_DETACH), "detaching the host's root")
    os.chdir("/")


def _become_jail_user(root: bool) -> None:
    """Leave every privilege: uid JAIL_UID in a new user namespace, mapped to an unprivileged host uid.

    Raises OSError.
    """
    if root:
        # the limit a new user namespace inherits for its parent's count (see _set_limits)
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        _prctl(PR_SET_DUMPABLE, 1)  # setuid made us undumpable, and /proc/self/*_map root's
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER)
    _write("/proc/self/uid_map", f"{JAIL_UID} {uid} 1\n")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/gid_map", f"{JAIL_UID} {gid} 1\n")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _syscall("capset", ctypes.byref(header), ctypes.byref((ctypes.c_uint32 * 6)()))


def _clean_environment(workdir: str) -> None:
    """Replace the environment and wipe the zygote's original one from this process's stack."""
    os.environ.clear()
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50 and 51)
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)  # /proc/self/environ reads this region
    os.environ.update(ENV, HOME=workdir, MPLCONFIGDIR=f"{workdir}/.config/matplotlib")


def _close_fds(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep):
        if fd > low:  # os.closerange(0, 0) would become close_range(0, ~0): every fd
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 2**31 - 1)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _set_limits(limits: JailLimits) -> None:
    """Set the jail's rlimits on the calling process; raises OSError.

    RLIMIT_NPROC: since Linux 5.14 the kernel charges a process to its (user
    namespace, uid) pair and to every pair up the chain, and checks the lowest
    one against the caller's RLIMIT_NPROC and the others against the limit in
    force when each namespace was created. The jail's uid lives in a user
    namespace of its own, so this limit counts the tasks (threads included) of
    this one jail, never the zygote's or other students', although all of them
    share the same host uid.
    """
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    for kind, value in (
        (resource.RLIMIT_AS, mapped + limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.max_processes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_FSIZE, limits.max_file_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
    ):
        resource.setrlimit(kind, (value, value))


def _die_with_parent(check: int) -> None:
    """Be killed when the parent dies; exit now if it has already died (`check`: fd of a pipe it holds, or -1)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if check >= 0:
        if select.select([check], [], [], 0)[0]:  # EOF: the writer, our parent, is gone
            os._exit(SETUP_FAILED)
    elif os.getppid() != 1:
        os._exit(SETUP_FAILED)


def _pid1(plan: _Plan, limits: JailLimits, keep: set[int], workdir: str, pipes: tuple[int, int], root: bool) -> bool:
    """Build the jail as its pid 1; returns True in the jailed child, never returns in pid 1 itself.

    `pipes`: the write end of the status pipe, the read end of the pipe whose writer is P0.
    Signals stay blocked in pid 1 and until the jailed child is ready; raises OSError.
    """
    status_w, alive_r = pipes
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    _build_root(plan, limits)
    _become_jail_user(root)
    os.setsid()
    _clean_environment(workdir)
    _prctl(PR_SET_DUMPABLE, 0)  # nobody in the jail may trace or read pid 1
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


# ---------------------------------------------------------------- entering (P0)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _enter(plan: _Plan, limits: JailLimits, keep_fds: Sequence[int], workdir: str) -> None:
    keep = set(keep_fds)
    for fd in keep:
        if not isinstance(fd, int) or fd < 3 or not _is_open(fd):
            raise ValueError(f"keep_fds must be open file descriptors above 2 (0-2 become /dev/null), got {fd!r}")
    norm = os.path.normpath(workdir)
    if not norm.startswith("/tmp/"):
        raise ValueError(f"workdir must lie inside the jail's private /tmp, got {workdir!r}")
    root = os.geteuid() == 0
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
    try:
        if root:
            _unshare(flags)
        else:  # first become root of a user namespace that owns all the others
            _unshare(flags | CLONE_NEWUSER)
            _prctl(PR_SET_DUMPABLE, 1)  # an undumpable process's /proc/self/*_map belong to root
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
            jailed = _pid1(plan, limits, keep, norm, (status_w, alive_r), root)
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
        chunks = []
        while chunk := os.read(status_r, 4096):
            chunks.append(chunk)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    os.close(status_r)
    report = b"".join(chunks)
    if report != b"K":
        status = os.waitpid(pid, 0)[1]
        os.close(alive_w)
        detail = report[1:].decode(errors="replace") or f"set-up died with status {_exit_code(status)}"
        raise JailError(f"cannot build the jail: {detail}")
    for sig in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        signal.signal(sig, signal.SIG_DFL)  # a signal to this process now ends the whole jail
    _close_fds({alive_w})
    os._exit(_exit_code(os.waitpid(pid, 0)[1]))


def enter(limits: JailLimits, *, keep_fds: Sequence[int], workdir: str = "/tmp/work") -> None:
    """Jail the calling process; call in a freshly forked, single-threaded child of the zygote.

    Returns only in the jailed process (pid 2 of a new pid namespace, uid and gid
    1000 in a user namespace of its own, host uid 65534 if the zygote is root,
    else the zygote's uid; no capabilities; seccomp; the rlimits of `limits`);
    its cwd and HOME are `workdir`, its environment is replaced, fds 0-2 are
    /dev/null and every fd but `keep_fds` is closed. The calling process itself
    becomes a waiter that exits with the jailed process's status (128+N for
    signal N); killing it kills every process of the jail.

    Raises ValueError for a bad fd or a workdir outside /tmp, JailError if
    prepare_zygote was not called or the jail cannot be built; after a
    JailError the caller is not jailed (but may be in new namespaces) and must
    not run untrusted code.
    """
    if _PLAN is None:
        raise JailError("prepare_zygote() must be called before enter()")
    _enter(_PLAN, limits, keep_fds, workdir)


def available() -> tuple[bool, str]:
    """Whether a jail can be built here, and why not, in words (the answer is cached).

    Forks a child that builds a real jail, so call it early, while the process
    has no threads that hold locks.
    """
    global _AVAILABLE
    if _AVAILABLE is not None:
        return _AVAILABLE
    if sys.platform != "linux":
        _AVAILABLE = (False, f"jails need Linux namespaces, this is {sys.platform}")
        return _AVAILABLE
    try:
        plan = _PLAN or _make_plan([])
    except JailError as exc:
        _AVAILABLE = (False, str(exc))
        return _AVAILABLE
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        message = b"ok"
        try:
            os.close(read_fd)
            _enter(plan, JailLimits(memory_bytes=2**28), keep_fds=[write_fd], workdir="/tmp/probe")
        except BaseException as exc:  # noqa: BLE001 (the probe must end with os._exit)
            message = str(exc).encode()
        os.write(write_fd, message)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        answer = f.read().decode(errors="replace")
    status = os.waitpid(pid, 0)[1]
    who = f"jailed children run as host uid {NOBODY if os.geteuid() == 0 else os.geteuid()}"
    if answer == "ok" and status == 0:
        _AVAILABLE = (True, f"user, pid, mount, network, IPC, UTS and cgroup namespaces and seccomp work; {who}")
    else:
        hints = []
        for path in ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone"):
            if os.path.exists(path):
                with open(path) as f:
                    if f.read().strip() == "0":
                        hints.append(f"{path} is 0")
        reason = answer or f"the probe died with status {_exit_code(status)}"
        _AVAILABLE = (False, "; ".join([reason, *hints]))
    log.debug("jail available: %s", _AVAILABLE)
    return _AVAILABLE

"""Grading on a Dask cluster (``grade --dask local:N`` or ``--dask tcp://HOST:PORT``): one student, one task.

Dask distributed does the scheduling, the queueing and the retries; this
module only says what a task is and what each worker keeps:

- each worker keeps one warm :class:`~autograder.sandbox.Sandbox` for its life
  (:class:`SandboxPlugin`, a worker plugin; its zygote is started with
  fork+exec by :mod:`subprocess`, never forked from the worker's threads). A
  worker whose jail cannot be built, or whose grader is another version than
  the client's, logs one line saying so and leaves the cluster;
- a task (:func:`run_notebook`) takes the assignment's source notebook and a
  submission's bytes, runs, scores and renders it (:meth:`autograder.grader.Grader.mark`)
  and returns the marks, the feedback page (naming no student) and the grader's
  notes as plain data. It knows no student and writes no output file: its key
  is the assignment, the submission's SHA-256 and the grader version (with the
  run's limits and the book the pages link to), so running it twice, or on
  another worker after one was lost, gives the same answer;
- the client (:class:`DaskExecutor`, what :meth:`autograder.grader.Grader.run`
  calls) names each page and writes it, and puts the class's marks into the
  run's nbgrader gradebook at the end: only the client writes files, and its
  share of a notebook's work is small enough not to hold a cluster back.

A submission whose task killed its worker each time it ran (Dask gives up after
``distributed.scheduler.allowed-failures`` tries) gets a row saying so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import Client, KilledWorker, LocalCluster, Reschedule, Worker, WorkerPlugin, as_completed, get_worker

from . import __version__, report
from .collect import Submission
from .feedback import BookLinks
from .gradebook import install
from .grader import ClusterError, Grader, Marked, setup_assignment, warm_up
from .limits import Limits
from .prepare import MAX_NOTEBOOK_BYTES, UnreadableSubmission
from .results import StudentResult
from .sandbox import START_TIMEOUT, Sandbox, jail_available

if TYPE_CHECKING:
    from .grader import Assignment

log = logging.getLogger(__name__)
# on a worker, lines go through the worker's own log (``dask worker`` shows the ``distributed`` loggers)
worker_log = logging.getLogger("distributed.worker.autograder")

WINDOW_PER_WORKER = 8  # tasks in flight per worker: enough to keep it busy, little data held by the scheduler
_ADDRESS = re.compile(r"^(?:local:(?P<n>[1-9][0-9]{0,3})|(?P<url>(?:tcp|tls)://[^\s/]+:[0-9]{1,5}))$")


CLIENT_COST: list[float] = []  # per run: the client's seconds per notebook (``bench`` reads it)


@functools.cache
def grader_version() -> str:
    """The package version and a digest of the package's sources: a worker must run exactly the client's grader."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _quiet() -> None:
    """Keep the scheduler's and the client's INFO lines (a LocalCluster's scheduler runs here) off the terminal."""
    distributed_log = logging.getLogger("distributed")
    if distributed_log.getEffectiveLevel() < logging.WARNING:
        distributed_log.setLevel(logging.WARNING)


def parse_address(text: str) -> tuple[int | None, str | None]:
    """``local:N`` as (N, None), ``tcp://HOST:PORT`` as (None, the address).

    Raises:
        ClusterError: neither form.
    """
    match = _ADDRESS.match(text.strip())
    if not match:
        raise ClusterError(
            f"--dask {text!r}: expected local:N (a cluster of N worker processes here) "
            "or tcp://HOST:PORT (the address of a running dask scheduler)"
        )
    return (int(match["n"]), None) if match["n"] else (None, match["url"])


def plugin_name(sandboxed: bool) -> str:
    return f"autograder-sandbox-{'jailed' if sandboxed else 'unsandboxed'}-{grader_version()}"


class SandboxPlugin(WorkerPlugin):
    """A worker plugin: one warm sandbox per worker for the worker's life, and the assignments it has set up."""

    def __init__(self, *, sandboxed: bool, version: str) -> None:
        self.sandboxed = sandboxed
        self.version = version
        self.refusal = ""  # why this worker does not grade (empty: it does)
        self.sandbox: Sandbox | None = None
        self._assignments: dict[str, Assignment] = {}
        self._lock = threading.Lock()
        self._root: Path | None = None

    def __getstate__(self) -> dict[str, Any]:  # sent to the workers: the settings only
        return {"sandboxed": self.sandboxed, "version": self.version}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def _refuse(self, worker: Worker, why: str) -> None:
        self.refusal = why
        worker_log.error("autograder: this worker cannot grade and leaves the cluster: %s", why)
        worker.loop.add_callback(worker.close, nanny=True, reason="autograder: " + why)

    async def setup(self, worker: Worker) -> None:
        if self.version != grader_version():
            self._refuse(
                worker,
                f"its grader is {grader_version()}, the client's {self.version} "
                "(install the same commit of the course on every node)",
            )
            return
        if self.sandboxed:
            works, why = jail_available()
            if not works:
                self._refuse(worker, f"no jail can be built on this node ({why})")
                return
        self._root = Path(tempfile.mkdtemp(prefix="autograder-worker-", dir=worker.local_directory))
        # created on the worker's event-loop thread, which lives as long as the worker
        self.sandbox = Sandbox(sandboxed=self.sandboxed, limits=Limits())
        try:
            await asyncio.to_thread(warm_up)  # what marking a notebook loads, loaded while the zygote starts
            await asyncio.to_thread(self.sandbox.wait_ready)
        except Exception as exc:  # noqa: BLE001  (any failure to start is this worker's refusal)
            self.sandbox = None
            self._refuse(worker, f"the grading sandbox did not start ({exc})")

    def teardown(self, worker: Worker) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def _assignment(self, name: str, source: bytes) -> Assignment:
        """The assignment of ``source``, set up once per worker (nbgrader's generate step, a gradebook of its own)."""
        key = hashlib.sha256(source).hexdigest()
        with self._lock:
            if key not in self._assignments:
                assert self._root is not None
                install()
                course = self._root / key[:16]
                folder = course / "solutions" / name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{name}.ipynb").write_bytes(source)
                self._assignments[key] = setup_assignment(
                    name, course_root=course, out=course / "gradebook", scratch=self._root
                )
            return self._assignments[key]

    def run(
        self, name: str, source: bytes, notebook: bytes, limits: dict[str, Any], links: BookLinks
    ) -> dict[str, Any]:
        """What :func:`run_notebook` returns."""
        assignment = self._assignment(name, source)
        assert self.sandbox is not None and self._root is not None
        grader = Grader(
            assignment, out=self._root, jobs=1, sandbox=self.sandbox, limits=Limits.from_wire(limits), links=links
        )
        with tempfile.TemporaryDirectory(dir=self._root) as tmp:
            path = Path(tmp) / f"{name}.ipynb"
            path.write_bytes(notebook)
            try:
                return grader.mark(path).to_wire()
            except UnreadableSubmission as exc:
                return {"unreadable": str(exc)}


def run_notebook(
    name: str,
    source: bytes,
    notebook: bytes,
    limits: dict[str, Any],
    links: BookLinks,
    sandboxed: bool,
    version: str,
) -> dict[str, Any]:
    """The task: run, score and render one submitted notebook in this worker's sandbox.

    Returns plain data: :meth:`autograder.grader.Marked.to_wire` (the marks, the
    feedback page naming no student, the notes), or ``{"unreadable": why}``.
    Raises :class:`distributed.Reschedule` on a worker that cannot grade.
    """
    plugin = get_worker().plugins.get(plugin_name(sandboxed))
    if not isinstance(plugin, SandboxPlugin) or plugin.sandbox is None or plugin.version != version:
        raise Reschedule()  # this worker is leaving (it refused): another one runs the task
    return plugin.run(name, source, notebook, limits, links)


def _worker_state(dask_worker: Worker, name: str) -> str:
    """On a worker: ``ready``, or why it does not grade."""
    plugin = dask_worker.plugins.get(name)
    if not isinstance(plugin, SandboxPlugin):
        return "the grading plugin is not installed"
    if plugin.refusal:
        return plugin.refusal
    return "ready" if plugin.sandbox is not None else "starting"


class DaskExecutor:
    """Runs :meth:`autograder.grader.Grader.run` on a Dask cluster; the client scores and writes."""

    def __init__(self, client: Client, *, sandboxed: bool, limits: Limits, source: bytes, workers: int) -> None:
        self.client = client
        self.sandboxed = sandboxed
        self.limits = limits
        self.source = source
        self.window = max(16, WINDOW_PER_WORKER * workers)
        self.client_seconds = 0.0  # time the client spent naming and writing pages (the run's serial part)
        self.notebooks = 0
        self._run_digest = hashlib.sha256(
            repr((hashlib.sha256(source).hexdigest(), sorted(limits.to_wire().items()), sandboxed)).encode()
        ).hexdigest()[:12]

    def key(self, assignment: str, submission_sha256: str, links: BookLinks) -> str:
        """The task's key: the same submission of the same assignment graded by the same grader is one task."""
        pages = hashlib.sha256(repr(links).encode()).hexdigest()[:8]  # the book the feedback pages link to
        return f"autograder-{assignment}-{submission_sha256}-{grader_version()}-{self._run_digest}-{pages}"

    def run(self, grader: Grader, submissions: list[Submission], *, progress: bool) -> list[StudentResult]:
        """One result per submission, in input order (see :meth:`autograder.grader.Grader.run`).

        Raises:
            ClusterError: the scheduler was lost during the run.
        """
        name = grader.assignment.name
        results: list[StudentResult | None] = [None] * len(submissions)
        started: dict[str, float] = {}
        waiting: dict[str, list[int]] = {}  # task key -> the submissions (same bytes) it grades
        bar = report.progress_bar(len(submissions), enabled=progress)
        queue: list[tuple[str, bytes]] = []
        for index, submission in enumerate(submissions):
            path = submission.notebook
            if path is None or not 0 < path.stat().st_size <= MAX_NOTEBOOK_BYTES:
                results[index] = grader.grade_submission(submission)  # a row in words, no code to run
                bar.update(1)
                continue
            data = path.read_bytes()
            key = self.key(name, hashlib.sha256(data).hexdigest(), grader.links)
            if key not in waiting:
                waiting[key] = []
                queue.append((key, data))
            waiting[key].append(index)
        limits = self.limits.to_wire()
        pending = as_completed()
        queue.reverse()  # taken from the end: in input order
        for _ in range(min(self.window, len(queue))):
            _submit_from(queue, started, pending, self, name, limits, grader.links)
        for future in pending:
            key = future.key
            try:
                answer: dict[str, Any] | BaseException = future.result()
            except BaseException as exc:  # noqa: BLE001  (turned into rows, or into ClusterError below)
                answer = exc
            finally:
                future.release()
            if queue:
                _submit_from(queue, started, pending, self, name, limits, grader.links)
            for index in waiting.pop(key, []):
                results[index] = self._result(grader, submissions[index], answer, started[key])
                bar.update(1)
        bar.close()
        missing = [submissions[i].student_id for i, r in enumerate(results) if r is None]
        if missing:
            raise ClusterError(f"the cluster returned no result for {len(missing)} students ({', '.join(missing[:5])})")
        return [r for r in results if r is not None]

    def _result(
        self, grader: Grader, submission: Submission, answer: dict[str, Any] | BaseException, started: float
    ) -> StudentResult:
        sid = submission.student_id
        if isinstance(answer, KilledWorker):
            return grader._empty_result(
                sid,
                "the grading worker stopped every time this submission ran (it was tried on "
                f"{answer.allowed_failures + 1} workers); it was not graded, everyone else was",
            )
        if isinstance(answer, asyncio.CancelledError | concurrent.futures.CancelledError | OSError):
            raise ClusterError(f"the Dask cluster was lost during the run ({type(answer).__name__})")
        if isinstance(answer, BaseException):
            log.error("grading %s failed on the cluster: %s: %s", sid, type(answer).__name__, answer)
            return grader._empty_result(sid, f"internal grader error ({type(answer).__name__}: {answer})")
        if "unreadable" in answer:
            return grader._empty_result(sid, str(answer["unreadable"]))
        begun = time.monotonic()
        result = grader.finish(submission, Marked.from_wire(answer), started=started)
        self.client_seconds += time.monotonic() - begun
        self.notebooks += 1
        return result


def _submit_from(
    queue: list[tuple[str, bytes]],
    started: dict[str, float],
    pending: Any,
    executor: DaskExecutor,
    name: str,
    limits: dict,
    links: BookLinks,
) -> None:
    key, data = queue.pop()
    started[key] = time.monotonic()
    pending.add(
        executor.client.submit(
            run_notebook,
            name,
            executor.source,
            data,
            limits,
            links,
            executor.sandboxed,
            grader_version(),
            key=key,
        )
    )


@contextlib.contextmanager
def connect(
    address: str, *, sandboxed: bool, limits: Limits, source: Path, echo: Callable[[str], None]
) -> Iterator[DaskExecutor]:
    """A Dask client on ``address`` (``local:N`` starts a LocalCluster here) with the sandbox plugin on its workers.

    Raises:
        ClusterError: malformed address, no scheduler there, or no worker that can grade.
    """
    n, url = parse_address(address)
    _quiet()
    cluster = None
    try:
        if n is not None:
            cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
            client = Client(cluster)
        else:
            client = Client(url, timeout=10)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"--dask {address}: no Dask scheduler can be reached there ({exc})") from exc
    try:
        name = plugin_name(sandboxed)
        if not client.run_on_scheduler(lambda dask_scheduler, name=name: name in dask_scheduler.worker_plugins):
            client.register_plugin(SandboxPlugin(sandboxed=sandboxed, version=grader_version()), name=name)
        workers = _ready_workers(client, name, expected=n or 1, echo=echo)
        echo(f"grading on the Dask cluster at {client.scheduler.address}: {workers} worker(s) ready")
        executor = DaskExecutor(client, sandboxed=sandboxed, limits=limits, source=source.read_bytes(), workers=workers)
        yield executor
        if executor.notebooks:
            CLIENT_COST.append(executor.client_seconds / executor.notebooks)
            log.info("the client scored and wrote %.3f s per notebook", CLIENT_COST[-1])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def local_cluster(n: int, *, sandboxed: bool) -> Iterator[str]:
    """A LocalCluster of ``n`` one-thread workers with warm sandboxes; yields its address for ``grade(dask=...)``.

    Raises:
        ClusterError: no worker can grade.
    """
    _quiet()
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    try:
        with Client(cluster) as client:
            name = plugin_name(sandboxed)
            client.register_plugin(SandboxPlugin(sandboxed=sandboxed, version=grader_version()), name=name)
            _ready_workers(client, name, expected=n, echo=log.info)
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _ready_workers(client: Client, name: str, *, expected: int, echo: Callable[[str], None]) -> int:
    """Wait until ``expected`` workers are ready (or all that answered refused); return how many are.

    Raises:
        ClusterError: no worker joined in time, or every worker refused.
    """
    deadline = time.monotonic() + START_TIMEOUT
    try:
        client.wait_for_workers(1, timeout=START_TIMEOUT)
    except TimeoutError as exc:
        raise ClusterError(f"no Dask worker joined the scheduler in {START_TIMEOUT:g} s") from exc
    told: set[str] = set()
    while True:
        states = client.run(_worker_state, name=name, on_error="return")
        states = {w: s if isinstance(s, str) else f"no answer ({s})" for w, s in states.items()}
        for worker, state in states.items():
            if state not in {"ready", "starting"} and worker not in told:
                told.add(worker)
                echo(f"worker {worker} does not grade: {state}")
        ready = sum(state == "ready" for state in states.values())
        starting = sum(state == "starting" for state in states.values())
        if ready >= expected or (ready and not starting) or (not starting and states and time.monotonic() > deadline):
            break
        if states and not ready and not starting:
            reasons = sorted(set(states.values()))
            raise ClusterError(f"no Dask worker can grade: {reasons[0]}")
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not ready:
        raise ClusterError(f"no Dask worker was ready to grade within {START_TIMEOUT:g} s")
    return ready


__all__ = ["ClusterError", "DaskExecutor", "SandboxPlugin", "connect", "parse_address", "run_notebook"]

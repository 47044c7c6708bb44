"""Planning processes: a run's reading and planning, done beside the process that records.

A run is bound by the interpreter: reading the facts and planning take as long as
recording, and two threads share one interpreter (one core). On PostgreSQL a run of more
than one chunk forks planning processes instead: each reads and plans the chunks it is
given, on its own database connection, and sends back only what recording needs, while
this process records the chunks before. Chunks are handed out one at a time to whichever
process sent its last result, and their results are taken in order, so a run records
the same chunks in the same order however many processes plan them.

A forked process shares its parent's open sockets. It never touches the connections (and
caches) it was born with: it opens its own, without a pool, keeps the inherited ones
referenced so no finalizer closes them under the parent, and leaves by os._exit. It
stops when its parent closes its pipe (a run ended or cut short) or dies (its next write
fails), at most a chunk later."""

import contextlib
import os
import pickle
import resource
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.utils import load_backend

NICE = 10  # how much lower a planning process's priority is than the run's
_INHERITED: list = []  # the parent's connections and caches, in a forked process


def ahead(
    batches: Iterable,
    work: Callable,
    *,
    processes: int | None = None,
    memory: dict | None = None,
) -> Iterator:
    """work(batch) for each batch, in order, worked out in forked processes while the
    caller uses the results before. PostgreSQL only: SQLite serialises writers anyway
    (and its in-memory test databases are not shared). A run of one batch forks nothing.
    memory, if given, gets planners_peak_mb: the most each process held of its own
    (beyond what it shares with this one), summed."""
    processes = settings.DUNNING_PLANNERS if processes is None else processes
    batches = iter(batches)
    if processes < 1 or connections["default"].vendor != "postgresql":
        yield from map(work, batches)
        return
    first, second = next(batches, None), next(batches, None)
    if second is None:
        if first is not None:
            yield work(first)
        return
    planners = []
    pending = [first, second]  # taken from batches, not yet sent
    try:
        waiting = []  # the planners at work, in the order of their batches
        for _ in range(processes):
            batch = pending.pop(0) if pending else next(batches, None)
            if batch is None:
                break
            planner = _Planner.fork(work, siblings=planners)
            planners.append(planner)
            planner.send(batch)
            waiting.append(planner)
        while waiting:
            planner = waiting.pop(0)
            result = planner.receive()
            batch = pending.pop(0) if pending else next(batches, None)
            if batch is not None:
                planner.send(batch)
                waiting.append(planner)
            yield result
    finally:
        for planner in planners:
            planner.stop()
        if memory is not None:
            memory["planners_peak_mb"] = sum(planner.peak_mb for planner in planners)


class PlannerFailed(Exception):
    """A planning process failed, or ended, before it sent a chunk's result."""


class _Planner:
    """One forked planning process and this side of its two pipes."""

    def __init__(self, pid: int, to_child: BinaryIO, from_child: BinaryIO):
        self.pid = pid
        self.to_child = to_child
        self.from_child = from_child
        self.peak_mb = 0.0

    @classmethod
    def fork(cls, work: Callable, siblings: list["_Planner"]) -> "_Planner":
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the planning process: never returns
            os.close(down_write)
            os.close(up_read)
            # Its siblings' pipes too: else a sibling would not see its pipe closed.
            for sibling in siblings:
                for pipe in (sibling.to_child, sibling.from_child):
                    with contextlib.suppress(OSError):
                        os.close(pipe.fileno())
            _serve(work, os.fdopen(down_read, "rb"), os.fdopen(up_write, "wb"))
        os.close(down_read)
        os.close(up_write)
        return cls(pid, os.fdopen(down_write, "wb"), os.fdopen(up_read, "rb"))

    def send(self, batch) -> None:
        # A process that has gone is reported by receive, in its batches' turn.
        with contextlib.suppress(BrokenPipeError):
            pickle.dump(batch, self.to_child, pickle.HIGHEST_PROTOCOL)
            self.to_child.flush()

    def receive(self):
        try:
            kind, value, peak_mb = pickle.load(self.from_child)
        except EOFError:
            raise PlannerFailed(
                f"The planning process {self.pid} ended without sending its chunk."
            ) from None
        self.peak_mb = max(self.peak_mb, peak_mb)
        if kind == "error":
            raise PlannerFailed(f"The planning process {self.pid} failed:\n{value}")
        return value

    def stop(self) -> None:
        """Close its pipes (it leaves at its next read or write) and wait for it."""
        for pipe in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                pipe.close()
        os.waitpid(self.pid, 0)


def _serve(work: Callable, inbox: BinaryIO, outbox: BinaryIO):
    code = 1
    try:
        # The run waits on the process that records (and on its database session), not on
        # these, which work ahead: on a busy machine it goes first.
        os.nice(NICE)
        _own_connections()
        while True:
            try:
                batch = pickle.load(inbox)
            except EOFError:
                break
            try:
                message = ("ok", work(batch))
            except Exception:
                message = ("error", traceback.format_exc())
            pickle.dump((*message, _private_mb()), outbox, pickle.HIGHEST_PROTOCOL)
            outbox.flush()
            if message[0] == "error":
                break
        code = 0
    except BaseException:  # a broken pipe (the parent went) or a signal: leave quietly
        pass
    finally:
        for connection in connections.all(initialized_only=True):
            with contextlib.suppress(Exception):
                connection.close()
        os._exit(code)


def _own_connections() -> None:
    """New, unopened database connections (without a pool: the parent's pool holds the
    parent's sockets) and caches for this process; the inherited ones are kept, unused."""
    for alias in connections:
        inherited = connections[alias]
        _INHERITED.append(inherited)
        settings = inherited.settings_dict  # as the parent has it (a test database's name)
        options = {k: v for k, v in settings.get("OPTIONS", {}).items() if k != "pool"}
        backend = load_backend(settings["ENGINE"])
        connections[alias] = backend.DatabaseWrapper({**settings, "OPTIONS": options}, alias)
    for alias in caches:
        _INHERITED.append(caches[alias])
        caches[alias] = caches.create_connection(alias)


def _private_mb() -> float:
    """This process's own memory (what it does not share with its parent), in MB."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            kb = sum(
                int(line.split()[1]) for line in rollup if line.startswith(("Private_", "Swap:"))
            )
        return round(kb / 1024, 1)
    except OSError:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

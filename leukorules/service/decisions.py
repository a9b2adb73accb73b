"""The decision log of the service: every decision appended by one writer thread, in order.

Input: decisions made by `leukorules.audit.new_decision` (in the hook's worker thread, so the
writer only appends). Output: a future per decision, resolved with the stored row once it is
committed, or with the `AuditError` that kept it out; the service shows a decision only after
it is logged (as `leukorules evaluate --log` prints nothing it could not log).

Why one thread: the hash chain is a sequence, and a SQLite connection belongs to the thread
that opened it; one connection kept open makes an append cost a commit instead of opening the
file each time. Concurrent requests queue here and none is lost: the writer appends every
decision waiting when it is free in one transaction (group commit: one sync to disk for the
group, so the disk's latency is paid once per group, not once per decision), and a decision's
future resolves only after that commit. `close` appends what is queued, then stops.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from pathlib import Path

from leukorules.audit import AuditError, DecisionAppender, Row
from leukorules.audit.store import NewDecision

_STOP = object()
# Decisions appended in one transaction at most: one sync to disk for all of them.
GROUP = 64


class DecisionWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.Queue[tuple[NewDecision, Future[Row]] | object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.logged = 0

    def start(self) -> None:
        """Open the log (AuditError now, at start, when it cannot be), then write in the
        background."""
        opened: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(opened,), name="leukorules-decision-log", daemon=True
        )
        self._thread.start()
        opened.result()

    def _run(self, opened: Future[None]) -> None:
        try:
            appender = DecisionAppender(self.path)
        except AuditError as error:
            opened.set_exception(error)
            return
        opened.set_result(None)
        with appender:
            while True:
                group, stop = self._next_group()
                if group:
                    self._append(appender, group)
                if stop:
                    return

    def _next_group(self) -> tuple[list[tuple[NewDecision, Future[Row]]], bool]:
        """The decisions waiting now (at least one: waits for it), at most `GROUP` of them;
        and whether the writer was asked to stop."""
        group: list[tuple[NewDecision, Future[Row]]] = []
        item = self._queue.get()
        while True:
            if item is _STOP:
                return group, True
            assert isinstance(item, tuple)
            if item[1].set_running_or_notify_cancel():
                group.append(item)
            if len(group) >= GROUP:
                return group, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return group, False

    def _append(
        self, appender: DecisionAppender, group: list[tuple[NewDecision, Future[Row]]]
    ) -> None:
        try:
            rows = appender.append_many([decision for decision, _ in group])
        except AuditError as error:
            for _, done in group:
                done.set_exception(error)
        except Exception as error:  # a bug: these requests fail, the writer goes on
            for _, done in group:
                done.set_exception(AuditError(f"decision log {self.path}: {error!r}"))
        else:
            self.logged += len(rows)
            for (_, done), row in zip(group, rows, strict=True):
                done.set_result(row)

    def submit(self, decision: NewDecision) -> Future[Row]:
        done: Future[Row] = Future()
        if self._thread is None or not self._thread.is_alive():
            done.set_exception(AuditError(f"decision log {self.path} is closed"))
            return done
        self._queue.put((decision, done))
        return done

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

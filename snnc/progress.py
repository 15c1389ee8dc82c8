"""Progress bars for long loops, and the switches every command shares (docs/cli.md, "Progress").

``snnc --quiet`` (or ``-q`` after any command) silences progress bars, compile's stage timings and
the commands' informational lines; ``--progress`` shows bars even when stderr is not a terminal
(a log file, CI). Without either, a bar appears only on a terminal, and only for work expected to
take longer than ``SHOW_AFTER_S`` (estimated from the first chunks: short runs stay silent).

Bars go to stderr, so a command's output on stdout (a table, JSON) is never mixed with them, and
they are transient: nothing of them is left once the loop ends.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

SHOW_AFTER_S = 2.0  # a bar appears for work expected to take longer than this


@dataclass
class Settings:
    """What the command line asked for: ``quiet`` (no bars, no notes) and ``progress``
    (True: bars even off a terminal; None: bars on a terminal only)."""

    quiet: bool = False
    progress: bool | None = None


SETTINGS = Settings()


def configure(*, quiet: bool | None = None, progress: bool | None = None) -> None:
    """Set the switches (the CLI calls this for ``--quiet`` / ``--progress``)."""
    if quiet is not None:
        SETTINGS.quiet = quiet
    if progress is not None:
        SETTINGS.progress = progress


def reset() -> None:
    """Back to the defaults (each CLI invocation starts from them)."""
    SETTINGS.quiet, SETTINGS.progress = False, None


def quiet() -> bool:
    """True when informational output is to be left out (``--quiet``)."""
    return SETTINGS.quiet


def bars_enabled() -> bool:
    """Whether progress bars may be shown: never with ``--quiet``; always with ``--progress``;
    otherwise only when stderr is a terminal."""
    if SETTINGS.quiet:
        return False
    if SETTINGS.progress is not None:
        return SETTINGS.progress
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def chunk_for(total: int, chunks: int = 100) -> int:
    """Steps per chunk so that a loop of ``total`` steps reports about ``chunks`` times."""
    return max(1, total // chunks)


class Bar:
    """A deferred, transient rich progress bar of ``total`` units on stderr.

    ``update(done)`` after each chunk; the bar starts only once the work is expected (from the
    rate so far) to take longer than ``show_after`` seconds, and only where ``bars_enabled()``.
    With ``total=None`` (stages of unknown number and length, as compile's) the bar is a pulse
    with the count done and the last one's name, started by a timer after ``show_after`` s.
    Use as a context manager so that the bar is removed even when the loop fails.
    """

    def __init__(self, total: int | None, label: str, unit: str = "steps", *,
                 show_after: float | None = None, enabled: bool | None = None) -> None:
        self.total = None if total is None else max(int(total), 1)
        self.label, self.unit = label, unit
        self.show_after = SHOW_AFTER_S if show_after is None else show_after
        self.enabled = bars_enabled() if enabled is None else enabled
        self.started = time.perf_counter()
        self._progress: Any = None
        self._task: Any = None
        self._done, self._what = 0, ""
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        self.shown = False  # whether the bar was ever drawn (for tests)

    def __enter__(self) -> "Bar":
        self.started = time.perf_counter()
        if self.enabled and self.total is None:
            self._timer = threading.Timer(self.show_after, self._start)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def expected_s(self, done: int) -> float:
        """The whole loop's expected duration from the rate so far."""
        elapsed = time.perf_counter() - self.started
        return elapsed * (self.total or 1) / max(done, 1)

    def update(self, done: int, what: str = "") -> None:
        """``done`` units are finished (``what``: a word shown after the count, e.g. the last
        stage's name)."""
        if not self.enabled:
            return
        with self._lock:
            self._done, self._what = done, what
            progress = self._progress
        if progress is None and self.total is not None and done < self.total and \
                self.expected_s(done) > self.show_after:
            self._start()
            progress = self._progress
        if progress is not None:
            progress.update(self._task, completed=done, what=what)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with self._lock:
            if self._closed or self._progress is not None:
                return
            # --progress off a terminal: rich would otherwise draw nothing for a transient bar
            forced = bool(SETTINGS.progress) and not getattr(sys.stderr, "isatty",
                                                             lambda: False)()
            console = Console(stderr=True, force_terminal=True if forced else None)
            if self.total is None:
                columns: tuple = (TextColumn(self.label), BarColumn(),
                                  TextColumn(f"{{task.completed:,}} {self.unit} done"),
                                  TextColumn("{task.fields[what]}"), TimeElapsedColumn())
            else:
                columns = (TextColumn(self.label), BarColumn(),
                           TextColumn(f"{{task.completed:,}}/{{task.total:,}} {self.unit}"),
                           TextColumn("{task.fields[what]}"), TimeRemainingColumn())
            self._progress = Progress(*columns, console=console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total,
                                                 completed=self._done, what=self._what)
            for task in self._progress.tasks:  # elapsed time from the work's start, not the bar's
                if task.id == self._task and task.start_time is not None:
                    task.start_time -= time.perf_counter() - self.started
            self.shown = True

    def close(self) -> None:
        """Remove the bar (if it was shown); a pending timer no longer starts it."""
        with self._lock:
            self._closed = True
            timer, progress, self._progress = self._timer, self._progress, None
        if timer is not None:
            timer.cancel()
        if progress is not None:
            progress.stop()


__all__ = ["Bar", "SHOW_AFTER_S", "Settings", "bars_enabled", "chunk_for", "configure", "quiet",
           "reset"]

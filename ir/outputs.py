"""Safe outputs: every file snnc writes goes through here.

Rules (docs/cli.md, "What snnc refuses and what an interrupt leaves"):

- An output path must be missing or a regular file; a symbolic link, a directory, a device, a
  FIFO or a socket there is refused with one line (``OutputError``, exit 2) before anything is
  computed or written. A build folder (``compile -o``) must be missing or a real directory.
- While a command computes, its outputs are staged in anonymous temporary files (no name in any
  folder, so even SIGKILL leaves nothing behind). ``Outputs.commit()`` then copies them to named
  temporary files beside their targets and renames them all into place, with SIGINT and SIGTERM
  blocked, so the files of one command (spikes + ``provenance.json``, a network YAML + its NPZ)
  appear together; a build folder is assembled beside the old one and swapped with it in one
  ``renameat2(RENAME_EXCHANGE)``.
- A temporary name is ``.NAME.snnc-PID.tmp``; one left by a process that no longer runs (killed
  with SIGKILL during the few milliseconds of a commit) is removed by the next write beside it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import stat
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from .errors import SnncError

_SUFFIX = ".tmp"
_collector: "ContextVar[Outputs | None]" = ContextVar("snnc_outputs", default=None)


class OutputError(SnncError):
    """An output path that snnc will not write to, or a write that failed."""


def _describe_mode(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_file_target(path: str | os.PathLike, where: str = "--output") -> Path:
    """Refuse an output path that exists and is not a regular file (symlinks are not followed)."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(path, where)
        return path
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", where=where,
                          file=str(path)) from None
    if not stat.S_ISREG(mode):
        raise OutputError(f"refusing to replace {_describe_mode(mode)}: an output must be a "
                          "missing path or a regular file", where=where, file=str(path))
    _check_parent(path, where)
    return path


def check_dir_target(path: str | os.PathLike, where: str = "--output") -> Path:
    """Refuse a build folder path that exists and is not a real directory."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(path, where)
        return path
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", where=where,
                          file=str(path)) from None
    if not stat.S_ISDIR(mode):
        what = "a file" if stat.S_ISREG(mode) else _describe_mode(mode)
        raise OutputError(f"refusing to replace {what}: a build folder must be "
                          "a missing path or a directory", where=where, file=str(path))
    _check_parent(path, where)
    return path


def _existing_ancestor(path: Path) -> Path:
    path = Path(os.path.normpath(path))  # "a/../b" is b's folder, not "a" (which may be missing)
    parent = path.parent if str(path.parent) else Path(".")
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    return parent


def _check_parent(path: Path, where: str) -> None:
    """The nearest existing folder above ``path`` must be a directory we can write in."""
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise OutputError(f"cannot write: '{ancestor}' is not a directory", where=where,
                          file=str(path))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write: permission denied in '{ancestor}'", where=where,
                          file=str(path))


def _temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.snnc-{os.getpid()}{_SUFFIX}")


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and ".snnc-" in name and name.endswith(_SUFFIX)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> None:
    """Remove ``.TARGET.snnc-PID.tmp`` left beside ``target`` by processes that no longer run."""
    folder = target.parent if str(target.parent) else Path(".")
    prefix = f".{target.name}.snnc-"
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(_SUFFIX)]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):-len(_SUFFIX)]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        stale = folder / name
        try:
            if not stale.is_dir():  # a folder may hold a user's files moved there: left alone
                stale.unlink()
        except OSError:
            pass


def _make_folders(folder: Path) -> list[Path]:
    """``mkdir -p folder``; the folders it created, outermost first (removed again if the
    commit fails, so that a refused output leaves no empty folder either)."""
    missing = []
    current = Path(os.path.normpath(folder))
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


class _Blocked:
    """SIGINT and SIGTERM held (delivered on exit) while files are renamed into place."""

    SIGNALS = {signal.SIGINT, signal.SIGTERM}

    def __enter__(self) -> None:
        self.old = signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)

    def __exit__(self, *exc: Any) -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, self.old)


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


class Outputs:
    """The files one command writes, staged, then committed together (see module docstring).

    ``add(path, write, mode)`` calls ``write(handle)`` at once on an anonymous temporary file;
    ``commit()`` puts every added file in place. Without a commit (an error, an interrupt) nothing
    appears. With ``directory``, paths are names inside that build folder, which ``commit``
    replaces as a whole (``keep`` names entries of an old folder that are carried over).
    """

    def __init__(self, directory: str | os.PathLike | None = None, where: str = "--output",
                 drop: tuple[str, ...] = ()) -> None:
        self.directory = check_dir_target(directory, where) if directory is not None else None
        self.where = where
        self.drop = set(drop)
        self.staged: list[tuple[Path, Any]] = []

    def add(self, path: str | os.PathLike, write: Callable[[Any], Any], mode: str = "w") -> None:
        target = Path(path)
        if self.directory is not None:
            if target.parent not in (Path(""), Path("."), self.directory):
                raise ValueError(f"{target} is not a file of the build folder {self.directory}")
            target = self.directory / target.name
        if self.directory is None:
            check_file_target(target, self.where)
        staging = _existing_ancestor(target if self.directory is None else self.directory)
        binary = "b" in mode
        try:
            handle: IO[Any] = (tempfile.TemporaryFile(mode="w+b", dir=staging) if binary else
                               tempfile.TemporaryFile(mode="w+", dir=staging, encoding="utf-8"))
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", where=self.where,
                              file=str(target)) from None
        try:
            write(handle)
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self.staged = [(t, h) for t, h in self.staged if t != target]
        self.staged.append((target, handle))

    @contextmanager
    def collect(self) -> Iterator["Outputs"]:
        """Within this block, every ``write_files``/``atomic_write`` (in any module) is staged
        here instead of written, and appears at ``commit``."""
        token = _collector.set(self)
        try:
            yield self
        finally:
            _collector.reset(token)

    def close(self) -> None:
        for _, handle in self.staged:
            handle.close()
        self.staged = []

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.close()

    def _copy(self, handle: Any, name: Path) -> None:
        handle.seek(0)
        source = handle.buffer if hasattr(handle, "buffer") else handle
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        except BaseException:
            os.unlink(name)
            raise

    def commit(self) -> None:
        """Put every staged file in place, all together (SIGINT/SIGTERM wait until done)."""
        try:
            with _Blocked():
                if _interrupts:  # asked to stop: what is staged is dropped, nothing is replaced
                    raise KeyboardInterrupt
                if self.directory is None:
                    self._commit_files()
                else:
                    self._commit_directory()
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", where=self.where,
                              file=exc.filename or "") from None
        finally:
            self.close()

    def _commit_files(self) -> None:
        written: list[tuple[Path, Path]] = []
        created: list[Path] = []
        try:
            for target, handle in self.staged:
                created += _make_folders(target.parent)
                check_file_target(target, self.where)  # it may have changed while we computed
                remove_stale(target)
                temporary = _temporary_name(target)
                self._copy(handle, temporary)
                written.append((temporary, target))
        except BaseException:
            for temporary, _ in written:
                temporary.unlink(missing_ok=True)
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            raise
        for temporary, target in written:
            os.replace(temporary, target)

    def _commit_directory(self) -> None:
        directory = self.directory
        assert directory is not None
        _make_folders(directory.parent)
        check_dir_target(directory, self.where)
        remove_stale(directory)
        temporary = _temporary_name(directory)
        temporary.mkdir()
        try:
            new = set()
            for target, handle in self.staged:
                self._copy(handle, temporary / target.name)
                new.add(target.name)
            if directory.exists():
                # entries of the old folder that are not build files (a user's own files) move
                # over; earlier build files the new build does not have are dropped
                for name in os.listdir(directory):
                    if name not in new and name not in self.drop and not _is_temporary(name):
                        os.rename(directory / name, temporary / name)
                if not _exchange(temporary, directory):
                    old = directory.with_name(f".{directory.name}.snnc-{os.getpid()}.old{_SUFFIX}")
                    os.rename(directory, old)
                    os.rename(temporary, directory)
                    temporary = old
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                os.rename(temporary, directory)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise


_interrupts: list[int] = []


def note_interrupt(signum: int) -> None:
    """Record that the process was asked to stop (the CLI's SIGINT/SIGTERM handler calls this):
    no later ``commit`` puts anything in place, even where the KeyboardInterrupt the handler
    raised was swallowed (a library's callback that ignores exceptions)."""
    _interrupts.append(signum)


def current_outputs() -> "Outputs | None":
    """The ``Outputs`` collecting writes here (inside ``Outputs.collect()``), if any."""
    return _collector.get()


def write_files(files: list[tuple[str | os.PathLike, Callable[[Any], Any], str]],
                where: str = "--output") -> None:
    """Write several files together: ``[(path, write, mode), ...]`` (see ``Outputs``); inside
    ``Outputs.collect()`` they are staged there instead."""
    collector = _collector.get()
    if collector is not None:
        for path, write, mode in files:
            collector.add(path, write, mode)
        return
    with Outputs(where=where) as outputs:
        for path, write, mode in files:
            outputs.add(path, write, mode)
        outputs.commit()

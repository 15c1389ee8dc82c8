"""``njit`` for snnc's hot loops, with an on-disk cache that cannot hand back the wrong machine code.

numba's own cache (``njit(cache=True)``) has two failure modes that snnc hits in normal use:

* **Concurrent writers.** numba names a function's data files by a counter read from its index
  (``f-12.py310.1.nbc``, ``.2.nbc``, ...). Two processes that compile different signatures of the
  same function at once (two pytest-xdist workers, two ``snnc run`` in a parameter sweep) both
  pick ``.1.nbc``; the index one of them writes last then maps its signature to the *other*
  signature's machine code, and the next process that loads it segfaults. Every cache entry here
  stores its own key, and an entry whose key differs from the one asked for is a miss (the
  function is recompiled), never a wrong answer.
* **Stale callees.** numba checks only the source file of the cached function itself, so a cached
  time loop keeps the old code of a neuron update that lives in another module (the reference
  engine calls the step kernels of ``models/``). Here the entry is also stamped with a hash of
  every ``.py`` file of snnc's kernel packages (``ir/``, ``models/``, ``compiler/``,
  ``backends/``), so editing any of them recompiles every cached kernel.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path
from typing import Any, Callable

import numba
from numba.core.caching import FunctionCache, IndexDataCacheFile


class KeyedCacheFile(IndexDataCacheFile):
    """numba's index + data files, each entry saved as ``(key, data)`` and checked on load."""

    def save(self, key: Any, data: Any) -> None:
        super().save(key, (key, data))

    def load(self, key: Any) -> Any:
        entry = super().load(key)
        if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] == key):
            return None  # another signature's code under this name (a lost index race): recompile
        return entry[1]


KERNEL_PACKAGES = ("ir", "models", "compiler", "backends")
"""The folders (siblings of this one, in the source tree and when installed) whose code kernels call."""


@functools.lru_cache(maxsize=None)
def folder_stamp(folder: Path) -> str:
    """SHA-256 over the names and contents of every ``.py`` file under ``folder`` (recursively)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def package_stamp() -> str:
    """One hash over every kernel package: a cached kernel is reused only with the same sources."""
    root = Path(__file__).resolve().parent.parent
    return "".join(folder_stamp(root / name) for name in KERNEL_PACKAGES if (root / name).is_dir())


# Stamped now, when this module is first imported and before any kernel module is: a stamp taken
# later (at the first compile) could describe sources edited after the kernels were imported, and
# a cache entry then holds old code under the new sources' name (seen while files were edited
# during test runs: a generated engine that segfaulted when loaded again).
package_stamp()


class FolderStampedCache(FunctionCache):
    """numba's function cache with :class:`KeyedCacheFile` and the folder's source stamp."""

    def __init__(self, py_func: Callable) -> None:
        super().__init__(py_func)
        folder = Path(inspect.getfile(py_func)).resolve().parent
        stamp = (self._impl.locator.get_source_stamp(), folder_stamp(folder), package_stamp())
        self._cache_file = KeyedCacheFile(cache_path=self._cache_path,
                                          filename_base=self._impl.filename_base,
                                          source_stamp=stamp)


def njit(*args: Callable, cache: bool = False, **options: Any):
    """``numba.njit`` (same options); ``cache=True`` uses :class:`FolderStampedCache`."""

    def compile_lazily(func: Callable):
        dispatcher = numba.njit(**options)(func)
        if cache:
            # what Dispatcher.enable_caching() does, with the safe cache in place of numba's
            dispatcher._cache = FolderStampedCache(dispatcher.py_func)
        return dispatcher

    if args and callable(args[0]):
        return compile_lazily(args[0])
    return compile_lazily

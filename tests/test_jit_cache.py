"""snnc.models.jit's numba cache: a lost index race is a recompilation, not a segfault; callees' edits count.

The race test replays, one step after the other, what two processes compiling two signatures of
one function at the same time do to numba's index and data files. numba's own cache file returns
the other signature's code there (the segfault seen after a parallel test run); snnc's must not.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pickle

import numba
import numpy as np
from numba.core.caching import IndexDataCacheFile

from snnc.models.jit import FolderStampedCache, KeyedCacheFile, folder_stamp, njit

KEY_A, DATA_A = ("sig int64",), b"machine code for int64"
KEY_B, DATA_B = ("sig float64",), b"machine code for float64"


def replay_lost_index_race(cache_class, folder: Path):
    """Process A saves KEY_A; B, which read the index before A wrote it, saves KEY_B; A's index
    write lands last. Returns what a third process then loads for KEY_A."""
    process_a = cache_class(str(folder), "f-1.py310", "stamp")
    process_b = cache_class(str(folder), "f-1.py310", "stamp")
    index = folder / "f-1.py310.nbi"
    process_a.save(KEY_A, DATA_A)
    index_written_by_a = index.read_bytes()
    index.unlink()  # B read the index before A wrote it: it sees an empty cache
    process_b.save(KEY_B, DATA_B)  # so B also picks data file number 1
    index.write_bytes(index_written_by_a)
    return cache_class(str(folder), "f-1.py310", "stamp").load(KEY_A)


def test_numbas_own_cache_file_returns_the_other_signatures_code(tmp_path):
    # the failure snnc.models.jit exists to prevent: if numba fixes it, this test says so
    assert replay_lost_index_race(IndexDataCacheFile, tmp_path) == DATA_B


def test_keyed_cache_file_turns_the_race_into_a_miss(tmp_path):
    assert replay_lost_index_race(KeyedCacheFile, tmp_path) is None
    # both processes then recompile and save again; the cache heals and serves each its own code
    fresh = KeyedCacheFile(str(tmp_path), "f-1.py310", "stamp")
    fresh.save(KEY_A, DATA_A)
    if fresh.load(KEY_B) is None:
        fresh.save(KEY_B, DATA_B)
    later = KeyedCacheFile(str(tmp_path), "f-1.py310", "stamp")
    assert (later.load(KEY_A), later.load(KEY_B)) == (DATA_A, DATA_B)


def test_folder_stamp_changes_with_any_file_of_the_folder(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    before = folder_stamp.__wrapped__(tmp_path)
    (tmp_path / "b.py").write_text("y = 3\n")
    assert folder_stamp.__wrapped__(tmp_path) != before


def test_njit_cache_saves_each_signature_with_its_key(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))  # this test's own cache

    @njit(cache=True)
    def total(values):
        return values.sum()

    assert isinstance(total._cache, FolderStampedCache)
    assert Path(total._cache.cache_path).is_relative_to(tmp_path)
    assert total(np.arange(5)) == 10
    assert total(np.arange(4.0)) == 6.0  # a second signature of the same function
    entries = [(key, data) for key, data in (
        pickle.loads(path.read_bytes()) for path in Path(total._cache.cache_path).glob("*.nbc"))]
    assert len(entries) == 2  # one data file per signature, each holding its own key
    assert {key[0] for key, _ in entries} == {(numba.typeof(np.arange(5)),),
                                              (numba.typeof(np.arange(4.0)),)}


CALLER = """
from snnc.models.jit import njit
from callee import step

@njit(cache=True)
def run(x):
    return step(x)

print(run(10))
"""


def test_editing_a_callee_in_another_module_recompiles_the_caller(tmp_path):
    """numba alone keeps the caller's cached code of the old callee; the folder stamp does not."""
    (tmp_path / "caller.py").write_text(textwrap.dedent(CALLER))
    callee = tmp_path / "callee.py"
    env_cache = tmp_path / "numba_cache"

    def run() -> str:
        out = subprocess.run([sys.executable, str(tmp_path / "caller.py")], cwd=tmp_path,
                             env={"NUMBA_CACHE_DIR": str(env_cache), "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    callee.write_text("from snnc.models.jit import njit\n\n@njit(cache=True)\ndef step(x):\n"
                      "    return x + 1\n")
    assert run() == "11"
    assert any(env_cache.rglob("*.nbi"))  # the caller was cached
    callee.write_text("from snnc.models.jit import njit\n\n@njit(cache=True)\ndef step(x):\n"
                      "    return x + 2\n")
    assert run() == "12"
    shutil.rmtree(env_cache)

"""Issue 14: SIGINT, SIGTERM and SIGKILL during ``compile`` and ``run`` leave the old output or the
complete new one (never a mix: a build's files, or spikes + provenance.json, belong together) and
no temporary file.

Each command is first run to the end once (its duration ``T`` and its complete new output), then
started again over the old output and sent the signal 25%, 55% and 85% of ``T`` after snnc's
signal handlers are installed (once Python has imported snnc).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

SNNC = str(Path(sys.executable).with_name("snnc"))

NET = """\
snnc: 1
name: busy
populations:
  inp: {size: 200, source: {kind: poisson, rate_hz: 50, seed: 1}}
  hid: {size: 400, neuron: {kind: lif, tau_mem: 20.0, v_th: 1.0}}
projections:
  - {from: inp, to: hid, connect: {kind: fixed_probability, p: 0.2, seed: 2}, weight: 0.3}
  - {from: hid, to: hid, connect: {kind: fixed_probability, p: 0.05, seed: 3}, weight: 0.05}
"""


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _temporaries(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if ".snnc-" in p.name or p.name.endswith(".tmp")]


def _run(args: list[str], cwd: Path) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run([SNNC, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return done.returncode, time.perf_counter() - started, done.stderr


def _handlers_installed(pid: int) -> bool:
    """snnc's ``main()`` has installed its SIGTERM handler (Python's start-up, importing numpy
    and numba, comes before it: a SIGINT there is Python's own KeyboardInterrupt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def _interrupted(args: list[str], cwd: Path, signum: int, after: float) -> tuple[int, str]:
    process = subprocess.Popen([SNNC, *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and not _handlers_installed(process.pid):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(after)
    if process.poll() is None:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


def _check_stderr(code: int, stderr: str, signum: int) -> None:
    assert "Traceback" not in stderr, stderr
    if signum != signal.SIGKILL and code != 0:
        assert code == 128 + signum, (code, stderr)
        assert stderr.strip().splitlines()[-1] == (
            f"snnc: interrupted by {signal.Signals(signum).name}; outputs are either complete "
            "or untouched")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("compile")
    (folder / "net.yaml").write_text(NET)
    (folder / "old.yaml").write_text(NET.replace("p: 0.2", "p: 0.1"))
    code, _, err = _run(["compile", "old.yaml", "--target", "spinnaker-emu", "-o", "old"], folder)
    assert code == 0, err
    code, seconds, err = _run(["compile", "net.yaml", "--target", "spinnaker-emu", "-o", "new"],
                              folder)
    assert code == 0, err
    return {"folder": folder, "old": _contents(folder / "old"), "new": _contents(folder / "new"),
            "seconds": seconds}


@pytest.mark.parametrize("fraction", [0.25, 0.55, 0.85])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_an_interrupted_compile_leaves_the_old_build_or_the_new_one(compiled, signum, fraction):
    folder = compiled["folder"]
    build = folder / f"build-{int(signum)}-{fraction}"
    build.mkdir()
    for name, data in compiled["old"].items():
        (build / name).write_bytes(data)
    code, stderr = _interrupted(["compile", "net.yaml", "--target", "spinnaker-emu", "-o",
                                 build.name], folder, signum, fraction * compiled["seconds"])
    _check_stderr(code, stderr, signum)
    assert _contents(build) in (compiled["old"], compiled["new"])
    if code == 0:
        assert _contents(build) == compiled["new"]
    assert _temporaries(folder) == []


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("run")
    (folder / "net.yaml").write_text(NET)
    code, _, err = _run(["compile", "net.yaml", "--target", "spinnaker-emu", "-o", "build"],
                        folder)
    assert code == 0, err
    (folder / "old").mkdir()
    code, _, err = _run(["run", "build", "--target", "spinnaker-emu", "--steps", "20", "-o",
                         "old/s.npz"], folder)
    assert code == 0, err
    (folder / "new").mkdir()
    code, seconds, err = _run(["run", "build", "--target", "spinnaker-emu", "--steps", "400",
                               "-o", "new/s.npz"], folder)
    assert code == 0, err
    return {"folder": folder, "old": _contents(folder / "old"), "new": _contents(folder / "new"),
            "seconds": seconds}


def _steps_agree(folder: Path) -> None:
    """The spikes file and s.provenance.json beside it come from the same run."""
    with np.load(folder / "s.npz") as spikes:
        steps = int(spikes["steps"])
    provenance = json.loads((folder / "s.provenance.json").read_text())
    assert str(steps) in json.dumps(provenance["summary"]), (steps, provenance["summary"])


@pytest.mark.parametrize("fraction", [0.25, 0.55, 0.85])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_an_interrupted_run_leaves_the_old_spikes_and_provenance_or_the_new_ones(ran, signum,
                                                                                 fraction):
    folder = ran["folder"]
    out = folder / f"out-{int(signum)}-{fraction}"
    out.mkdir()
    for name, data in ran["old"].items():
        (out / name).write_bytes(data)
    code, stderr = _interrupted(["run", "build", "--target", "spinnaker-emu", "--steps", "400",
                                 "-o", f"{out.name}/s.npz"], folder, signum,
                                fraction * ran["seconds"])
    _check_stderr(code, stderr, signum)
    assert _contents(out) in (ran["old"], ran["new"])
    _steps_agree(out)
    assert _temporaries(folder) == []


def test_a_temporary_file_left_by_a_killed_process_is_removed_by_the_next_write(tmp_path):
    from snnc.ir.io import atomic_write

    stale = tmp_path / ".out.txt.snnc-999999999.tmp"  # no such process
    stale.write_text("left by SIGKILL")
    mine = tmp_path / ".other.txt.snnc-999999999.tmp"
    mine.write_text("another target's: not touched")
    atomic_write(tmp_path / "out.txt", lambda handle: handle.write("new"))
    assert not stale.exists() and mine.exists()
    assert (tmp_path / "out.txt").read_text() == "new"


def test_an_exception_while_writing_leaves_nothing(tmp_path):
    from snnc.ir.outputs import Outputs

    (tmp_path / "a.txt").write_text("old a")

    def fail(handle):
        handle.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with Outputs() as outputs:
            outputs.add(tmp_path / "a.txt", lambda h: h.write("new a"))
            outputs.add(tmp_path / "b.txt", fail)
            outputs.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a"

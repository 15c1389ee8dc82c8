"""The CLI's error contract (docs/cli.md): one line, exit 2 for bad usage; --debug shows the
trace."""

import subprocess
import sys
from pathlib import Path

import pytest


def snnc(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


@pytest.mark.parametrize("args,line", [
    (["run"], "snnc run: Missing argument 'NET.yaml|BUILD_DIR'."),
    (["import-nir", "model.nir", "-o", "net.yaml"], "snnc import-nir: Missing option '--dt'."),
    (["compile", "net.yaml", "--target", "bogus", "-o", "out"],
     "snnc compile: Invalid value for '--target' / '-t': 'bogus' is not one of "
     "'loihi-sim', 'spinnaker-emu', 'reference'."),
    (["verify", "net.yaml", "--target", "loihi-sim", "--steps", "ten"],
     "snnc verify: Invalid value for '--steps': 'ten' is not a valid integer range."),
    (["--bogus"], "snnc: No such option '--bogus'."),
])
def test_usage_errors_are_one_line_with_exit_2(args, line):
    result = snnc(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path):
    missing = tmp_path / "absent.yaml"
    plain = snnc("validate", str(missing))
    assert (plain.returncode, plain.stderr) == (
        2, f"{missing}: cannot read: No such file or directory\n")
    debug = snnc("--debug", "validate", str(missing))
    assert debug.returncode == 2
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.rstrip().endswith(f"{missing}: cannot read: No such file or directory")


def test_written_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path):
    import os

    from snnc.ir import Network
    from snnc.ir.io import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.txt", lambda handle: handle.write("x"))
        Network("n").save(str(tmp_path / "net.yaml"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "net.yaml").stat().st_mode & 0o777 == 0o644


def test_verify_names_the_file_when_the_network_cannot_be_compiled(tmp_path):
    net = tmp_path / "spin.yaml"
    net.write_text("snnc: 1\nname: spin\npopulations:\n"
                   "  a: {size: 1, source: {kind: spike_times, times: [0], ids: [0]}}\n"
                   "  b: {size: 1, neuron: {kind: spinnaker_lif, v_thresh: 1, exp_tc: 1, "
                   "r_membrane: 1}}\n"
                   "projections:\n  - {from: a, to: b, weight: 1, delay: 1}\n")
    result = snnc("verify", str(net), "--target", "loihi-sim", "--steps", "5")
    assert (result.returncode, result.stderr) == (
        2, f"{net}: populations.b.neuron.kind: population 'b' is 'spinnaker_lif', which "
           "loihi-sim cannot run: it is SpiNNaker's integer model; loihi-sim runs lif or "
           "loihi_lif\n")


def test_run_and_verify_take_the_target_from_a_build(tmp_path):
    """`snnc run BUILD_DIR` and `snnc verify BUILD_DIR` need no --target; a network file does."""
    net = Path(__file__).resolve().parents[1] / "examples" / "spinnaker_delays" / "net.yaml"
    build = tmp_path / "build"
    assert snnc("compile", str(net), "-t", "spinnaker-emu", "-o", str(build)).returncode == 0
    ran = snnc("run", str(build), "--steps", "50", "-o", str(tmp_path / "s.npz"))
    assert ran.returncode == 0 and "spinnaker-emu" in ran.stdout, ran.stderr
    checked = snnc("verify", str(build), "--steps", "50")
    assert checked.returncode == 0 and "spinnaker-emu matches the reference" in checked.stdout
    missing = snnc("run", str(net), "--steps", "5", "-o", str(tmp_path / "t.npz"))
    assert (missing.returncode, missing.stderr) == (
        2, f"{net}: --target: a network file needs --target (a build directory carries its own)\n")
    assert not (tmp_path / "t.npz").exists()

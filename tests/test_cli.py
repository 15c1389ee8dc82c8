"""The CLI's error contract (DESIGN.md §5): one line, exit 2 for bad usage; --debug shows the trace."""

import subprocess
import sys

import pytest



def snnc(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


@pytest.mark.parametrize("args,line", [
    (["run"], "error: snnc run: Missing argument 'NET.yaml|BUILD_DIR'."),
    (["import-nir", "model.nir", "-o", "net.yaml"], "error: snnc import-nir: Missing option '--dt'."),
    (["compile", "net.yaml", "--target", "bogus", "-o", "out"],
     "error: snnc compile: Invalid value for '--target' / '-t': 'bogus' is not one of "
     "'loihi-sim', 'spinnaker-emu', 'reference'."),
    (["verify", "net.yaml", "--target", "loihi-sim", "--steps", "ten"],
     "error: snnc verify: Invalid value for '--steps': 'ten' is not a valid integer range."),
])
def test_usage_errors_are_one_line_with_exit_2(args, line):
    result = snnc(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path):
    missing = tmp_path / "absent.yaml"
    plain = snnc("validate", str(missing))
    assert (plain.returncode, plain.stderr) == (
        2, f"error: {missing}: cannot read: No such file or directory\n")
    debug = snnc("--debug", "validate", str(missing))
    assert debug.returncode == 2
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.rstrip().endswith(f"{missing}: cannot read: No such file or directory")

"""docs/nir.md's examples work as written: the shell block prints what the doc shows, the Python
block runs and prints its comment, and the spikes it produces are the Braille network's."""

import contextlib
import io
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from snnc.backends.spikes import SpikeRecord
from snnc.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "nir.md").read_text()


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


def test_the_shell_example_runs_and_prints_what_the_doc_shows(tmp_path, monkeypatch):
    (tmp_path / "tests").symlink_to(ROOT / "tests")  # the doc's paths are relative to the root
    monkeypatch.chdir(tmp_path)
    commands, last = [], None  # (argv, the comment lines right under it: what it prints)
    for line in blocks("sh")[0].splitlines():
        if line.startswith(".venv/bin/"):
            last = (shlex.split(line), [])
            commands.append(last)
        elif line.startswith("# ") and last is not None:
            last[1].append(line[2:])
        else:  # a blank line ends a command's output; comments after it explain the next one
            last = None
    assert [argv[0] for argv, _ in commands] == [".venv/bin/snnc", ".venv/bin/python",
                                              ".venv/bin/snnc", ".venv/bin/snnc"]
    for argv, shown in commands:
        if argv[0].endswith("python"):
            assert argv[1] == "-c"
            exec(argv[2], {})
            continue
        result = CliRunner().invoke(cli, argv[1:])
        assert result.exit_code == 0, (argv, result.output)
        if shown:
            assert result.stdout.splitlines() == shown, argv
    record = SpikeRecord.load(tmp_path / "spikes.npz")
    assert record.steps == 300 and record.dt == 0.1
    assert record.spikes["lif1.lif"][0].size > 100
    assert record.voltages["lif2"].shape == (300, 7)
    assert (tmp_path / "braille_again.nir").is_file()


def test_the_python_example_runs_and_prints_its_comment():
    (code,) = blocks("python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    comment = re.search(r"print\(.*\)\s+# (.*)", code).group(1)
    assert printed.getvalue().strip() == comment


def test_every_framework_has_a_row_with_its_options():
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (\w[\w /-]*?) \| (`--[^|]+) \|", DOC,
                                                        flags=re.M)}
    for framework in ("snnTorch", "Norse", "Sinabs", "Rockpool"):
        assert "--integrator" in rows[framework] and "--reset" in rows[framework], framework
    assert "one-step-per-hop" in DOC.lower() and "every hop adds one step" in DOC
    assert len(blocks("sh")) == 1

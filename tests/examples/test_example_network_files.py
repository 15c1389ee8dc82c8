"""examples/design_note and examples/spinnaker_delays: the network files run and verify as their
READMEs say (their compile reports are goldens in tests/golden/, tests/compiler/test_compile_cli.py)."""

from pathlib import Path

from click.testing import CliRunner

from snnc.backends import get_backend
from snnc.backends.spikes import first_divergence
from snnc.cli import cli
from snnc.compiler import compile_network
from snnc.ir import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STEPS = 300


def test_spinnaker_delays_spikes_cross_delay_cores_and_equal_the_reference():
    build = compile_network(load(EXAMPLES / "spinnaker_delays" / "net.yaml"), "spinnaker-emu")
    # spinnaker1 keeps 32 delay slots in a core; every sending core with a longer delay gets a
    # delay-extension core: the noise sources (1..100), exc[0:256] and exc[256:400] + inh (1..40)
    assert build.report.totals["delay_cores"] == 3
    emu = get_backend("spinnaker-emu")
    got = emu.run(build, STEPS)
    delay_cores = [c for c in emu.provenance["cores"] if c["kind"] == "delay"]
    assert len(delay_cores) == 3 and all(c["packets_sent"] > 0 for c in delay_cores)
    expected = get_backend("reference").run(build, STEPS, numerics="spinnaker")
    assert first_divergence(expected, got, ["exc", "inh"]) is None
    assert got.spikes["exc"][0].size > 100 and got.spikes["inh"][0].size > 10


def test_design_note_verifies_on_loihi_sim_and_spinnaker_refuses_its_loihi_lif(tmp_path):
    net = str(EXAMPLES / "design_note" / "net.yaml")
    result = CliRunner().invoke(cli, ["verify", net, "--target", "loihi-sim", "--steps", "50"])
    assert result.exit_code == 0, result.output
    assert "loihi-sim matches the reference (loihi numerics)" in result.stdout
    result = CliRunner().invoke(cli, ["compile", net, "--target", "spinnaker-emu", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "'out' is 'loihi_lif', which spinnaker-emu cannot run" in result.stderr
    assert not (tmp_path / "report.json").exists()

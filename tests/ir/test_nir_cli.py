"""``snnc import-nir`` / ``export-nir`` end to end: one-line errors, readouts, targets, delays.

Every failure must exit 2 with one line ``FILE: WHERE: WHAT`` on stderr, no traceback, and
leave no output file behind; an imported network must then behave on the other commands as the
IR says (``--record-v`` on a readout; reset by subtraction verified on the chip targets).
"""

import math
from pathlib import Path

import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snnc.backends.spikes import SpikeRecord
from snnc.cli import cli
from snnc.ir import LIF, Network, equal, explicit, load, spike_times

DATA = Path(__file__).resolve().parents[1] / "data" / "nir"


def snnc(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def error_lines(result):
    """stderr of a failed command: its error lines (everything it printed there)."""
    assert result.exit_code != 0
    return result.stderr.splitlines()


def write(tmp_path, name, nodes, edges):
    path = tmp_path / name
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    return path


def lif(n, tau=0.01):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))


# ---- bad input: exit 2, one line, nothing written ------------------------------------------------
def bad_models(tmp_path):
    text = tmp_path / "text.nir"
    text.write_text("not hdf5\n")
    mismatch = write(tmp_path, "mismatch.nir",
                     {"in": nir.Input(np.array([3])), "w": nir.Linear(np.ones((2, 3))),
                      "a": lif(3)}, [("in", "w"), ("w", "a")])
    half_step = write(tmp_path, "half_step.nir",
                      {"in": nir.Input(np.array([1])), "d": nir.Delay(np.array([1.5e-4])),
                       "a": lif(1)}, [("in", "d"), ("d", "a")])
    rockpool, nested = DATA / "lif_rockpool.nir", DATA / "braille_noDelay_bias_zero_subgraph.nir"
    braille = DATA / "braille_noDelay_bias_zero.nir"
    return [  # (model, options, the start of the error line)
        (tmp_path / "missing.nir", [], f"{tmp_path / 'missing.nir'}: file not found"),
        (text, [], f"{text}: not a readable NIR file: "),
        (rockpool, [], f"{rockpool}: 1_LIFNeuronTorch: nir.read rejects the file: Type inference "
                       "error: type mismatch: 1_LIFNeuronTorch.output: [[1]] -> output.input:"),
        (nested, ["--integrator", "euler"], f"{nested}: lif: nir.read rejects the file: "),
        (mismatch, [], f"{mismatch}: "),  # nir.read or snnc, the line names the node
        (half_step, [], f"{half_step}: d: delays [0.00015] s are not whole numbers of steps"),
        (braille, ["--integrator", "euler", "--dt", "0.001"],
         f"{braille}: lif1.lif: tau_mem 0.000999999762 s < dt 0.001 s: forward Euler"),
        (DATA / "lif_norse.nir", ["--dt", "0"],
         f"{DATA / 'lif_norse.nir'}: dt: must be a positive number of seconds, got 0.0"),
        (DATA / "lif_norse.nir", ["--dt", "-1e-4"],
         f"{DATA / 'lif_norse.nir'}: dt: must be a positive number of seconds, got -0.0001"),
    ]


def test_every_bad_import_is_one_line_exit_2_and_writes_nothing(tmp_path):
    for model, options, start in bad_models(tmp_path):
        out = tmp_path / "out" / "net.yaml"
        args = ["import-nir", model, "--dt", "0.0001", *options, "-o", out]
        result = snnc(*args)
        assert result.exit_code == 2, (model, result.output)
        assert "Traceback" not in result.output and result.stdout == "", model
        assert result.stderr.strip().splitlines() == error_lines(result), model
        (line,) = error_lines(result)
        assert line.startswith(start), line
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), model
    # the mismatch names the node at fault either way
    mismatch = [m for m, _, _ in bad_models(tmp_path) if m.name == "mismatch.nir"][0]
    result = snnc("import-nir", mismatch, "--dt", "0.0001", "-o", tmp_path / "x.yaml")
    assert any(f": {node}: " in error_lines(result)[0] for node in ("a", "w"))


def test_export_of_what_nir_cannot_carry_writes_nothing(tmp_path):
    net = Network("x", dt=1.0)
    net.source("inp", 1, spike_times())
    net.population("out", 1, LIF(tau_mem=4.0, refractory=2))
    net.connect("inp", "out", weight=0.5)
    net.save(tmp_path / "net.yaml")
    result = snnc("export-nir", tmp_path / "net.yaml", "-o", tmp_path / "m.nir")
    assert result.exit_code == 2
    assert error_lines(result) == [f"{tmp_path / 'net.yaml'}: populations.out.neuron: NIR "
                                   "has no refractory period and no initial voltage"]
    assert not (tmp_path / "m.nir").exists()


# ---- lif_norse.nir through the CLI ---------------------------------------------------------------
def test_lif_norse_from_the_command_line_spikes_one_step_after_the_exact_solution(tmp_path):
    table = np.loadtxt(DATA / "lif_exact.csv", delimiter=",")
    inputs = np.flatnonzero(table[:, 0])
    expected = np.flatnonzero(table[:, 2]) + 1  # one hop: one step later
    assert expected.tolist() == [461, 511, 711, 761]
    result = snnc("import-nir", DATA / "lif_norse.nir", "--dt", "0.0001", "-o",
                  tmp_path / "lif.yaml")
    assert result.exit_code == 0, result.output
    assert "spikes lag one step per hop; '1' lags 1 step" in result.stdout
    np.savez(tmp_path / "in.npz", times=inputs, ids=np.zeros_like(inputs))
    result = snnc("run", tmp_path / "lif.yaml", "--target", "reference", "--steps", 1000,
                  "--input", f"input={tmp_path / 'in.npz'}", "-o", tmp_path / "spikes.npz")
    assert result.exit_code == 0, result.output
    assert SpikeRecord.load(tmp_path / "spikes.npz").spikes["1"][0].tolist() == expected.tolist()


# ---- a non-spiking readout, recorded with --record-v ---------------------------------------------
def test_li_readout_voltage_through_import_and_run_record_v(tmp_path):
    tau, r, w = 2e-3, 3.0, 0.8
    model = write(tmp_path, "readout.nir",
                  {"in": nir.Input(np.array([1])), "w": nir.Linear(np.array([[w]])),
                   "li": nir.LI(tau=np.array([tau]), r=np.array([r]), v_leak=np.zeros(1)),
                   "out": nir.Output(np.array([1]))},
                  [("in", "w"), ("w", "li"), ("li", "out")])
    result = snnc("import-nir", model, "--dt", "0.001", "-o", tmp_path / "net.yaml")
    assert result.exit_code == 0, result.output
    assert load(tmp_path / "net.yaml").populations["li"].kind == "li"
    np.savez(tmp_path / "in.npz", times=np.array([0, 3]), ids=np.array([0, 0]))
    result = snnc("run", tmp_path / "net.yaml", "--target", "reference", "--steps", 8,
                  "--input", f"in={tmp_path / 'in.npz'}", "--record-v", "li",
                  "-o", tmp_path / "spikes.npz")
    assert result.exit_code == 0, result.output
    record = SpikeRecord.load(tmp_path / "spikes.npz")
    a = math.exp(-1e-3 / tau)  # exact: each spike adds (1 - a) r w one step later, then decays
    expected = [sum((1 - a) * r * w * a ** (t - s - 1) for s in (0, 3) if t > s) for t in range(8)]
    np.testing.assert_allclose(record.voltages["li"][:, 0], expected, rtol=0, atol=1e-12)
    assert record.spikes["li"][0].size == 0
    # the chips run the readout too (loihi_li, spinnaker_li), bit-exact against the reference
    for target in ("loihi-sim", "spinnaker-emu"):
        result = snnc("verify", tmp_path / "net.yaml", "--target", target, "--steps", 8,
                      "--input", f"in={tmp_path / 'in.npz'}")
        assert result.exit_code == 0, result.output


# ---- reset: subtract and Affine biases on the chip targets ---------------------------------------
@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_braille_resetting_by_subtraction_verifies_on_the_chips(tmp_path, target):
    # snnTorch's reset (subtract) and the Affine biases (the always-on bias source, delays 1, 2)
    result = snnc("import-nir", DATA / "braille_noDelay_bias_zero.nir", "--dt", "0.0001",
                  "--integrator", "euler", "--reset", "subtract", "-o", tmp_path / "net.yaml")
    assert result.exit_code == 0, result.output
    net = load(tmp_path / "net.yaml")
    assert {p.neuron.reset for p in net.neuron_populations()} == {"subtract"}
    times, ids = np.nonzero(np.load(DATA / "braille_test0_input.npy"))
    np.savez(tmp_path / "sample.npz", times=times, ids=ids)
    result = snnc("verify", tmp_path / "net.yaml", "--target", target, "--steps", 260,
                  "--input", f"input={tmp_path / 'sample.npz'}")
    assert result.exit_code == 0, result.output
    assert "identical over 260 steps" in result.stdout


# ---- export with delays, NIR -> IR -> NIR -> IR through the CLI ----------------------------------
def test_export_nir_writes_delay_nodes_and_round_trips_on_the_command_line(tmp_path):
    net = Network("delays", dt=0.5)
    net.source("inp", 3, spike_times())
    net.population("a", 4, LIF(tau_mem=8.0, tau_syn=2.0, v_th=0.6, v_leak=0.05))
    net.population("b", 2, LIF(tau_mem=np.array([4.0, 9.0]), v_th=0.4))
    net.connect("inp", "a", explicit([0, 0, 1, 2], [0, 3, 1, 2]),
                weight=np.array([0.9, 0.4, 0.8, 0.7]), delay=np.array([1, 3, 3, 1]))
    net.connect("a", "a", explicit([0, 1, 2, 3], [1, 2, 3, 0]), weight=-0.3, delay=2)
    net.connect("a", "b", weight=0.35, delay=4)
    net.save(tmp_path / "net.yaml")
    one, two = tmp_path / "one", tmp_path / "two"
    result = snnc("export-nir", tmp_path / "net.yaml", "-o", one / "m.nir")
    assert result.exit_code == 0, result.output
    options = ["--dt", "0.0005", "--integrator", "exact", "--reset", "zero", "--current", "new"]
    assert " ".join(options) in result.stdout
    graph = nir.read(one / "m.nir")
    delays = sorted(round(float(n.delay[0]) / 5e-4) for n in graph.nodes.values()
                    if isinstance(n, nir.Delay))
    assert delays == [1, 2, 3]  # hop + Delay for the delays 3 (inp->a), 2 (a->a), 4 (a->b)
    for here in (one, two):
        result = snnc("import-nir", here / "m.nir", *options, "-o", here / "net.yaml")
        assert result.exit_code == 0, result.output
        if here is one:
            result = snnc("export-nir", one / "net.yaml", "-o", two / "m.nir")
            assert result.exit_code == 0, result.output
    assert equal(load(one / "net.yaml"), load(two / "net.yaml"))
    back = load(one / "net.yaml")
    synapse_delays = {}
    for projection in back.projections:  # one projection per delay on the way back
        found = synapse_delays.setdefault((projection.pre, projection.post), set())
        found |= {int(d) for d in np.atleast_1d(projection.delay)}
    synapse_delays = {key: sorted(found) for key, found in synapse_delays.items()}
    assert synapse_delays == {("inp", "a"): [1, 3], ("a", "a"): [2], ("a", "b"): [4]}

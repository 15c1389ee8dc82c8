"""Progress bars and --quiet (docs/cli.md, "Progress and --quiet"): when a bar may show, that
chunked runs give the same spikes as one-call runs on every target, and what -q silences."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner

from snnc import progress
from snnc.cli import cli
from snnc.ir import LIF, LoihiLIF, Network, all_to_all, fixed_probability, poisson


@pytest.fixture(autouse=True)
def _fresh_settings():
    progress.reset()
    yield
    progress.reset()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_follow_quiet_progress_and_the_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress.bars_enabled() is False  # not a terminal, nothing asked
    progress.configure(progress=True)
    assert progress.bars_enabled() is True  # --progress: even off a terminal
    progress.configure(quiet=True)
    assert progress.bars_enabled() is False  # --quiet wins
    progress.reset()
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert progress.bars_enabled() is True  # a terminal: bars
    progress.configure(progress=False)
    assert progress.bars_enabled() is False  # --no-progress: never


def test_a_bar_shows_only_for_long_work(monkeypatch):
    monkeypatch.setattr("sys.stderr", _Terminal())
    with progress.Bar(100, "x", show_after=1e9) as quick:
        quick.update(50)
    assert not quick.shown  # expected to end long before show_after
    with progress.Bar(100, "x", show_after=0.0) as slow:
        slow.update(50)
    assert slow.shown
    with progress.Bar(100, "x", show_after=0.0, enabled=False) as off:
        off.update(50)
    assert not off.shown


def test_an_open_ended_bar_starts_by_its_timer_and_stops_cleanly(monkeypatch):
    import time

    monkeypatch.setattr("sys.stderr", _Terminal())
    with progress.Bar(None, "compiling", "stages", show_after=0.01) as bar:
        bar.update(1, "(last: validate)")
        deadline = time.time() + 5
        while not bar.shown and time.time() < deadline:
            time.sleep(0.01)
    assert bar.shown
    with progress.Bar(None, "compiling", "stages", show_after=60) as never:
        never.update(1)
    time.sleep(0.05)
    assert not never.shown  # closed before its timer: never drawn


def _active_network(loihi: bool = False) -> Network:
    """Poisson input into a recurrent population: spikes in most steps, so that a chunk
    boundary that lost or moved one would show."""
    net = Network("busy", dt=1.0)
    inp = net.source("inp", 20, poisson(rate_hz=150.0, seed=3))
    model = (LoihiLIF(du=400, dv=300, vth=200) if loihi
             else LIF(tau_mem=8.0, tau_syn=2.0, v_th=1.0))
    hid = net.population("hid", 30, model)
    net.connect(inp, hid, all_to_all(), weight=60 if loihi else 0.4, delay=1)
    net.connect(hid, hid, fixed_probability(0.2, seed=1), weight=-20 if loihi else -0.3,
                delay=3)
    return net


def _same(a, b) -> None:
    assert a.total > 50  # the comparison means something
    for name in a.spikes:
        assert np.array_equal(a.spikes[name][0], b.spikes[name][0]), name
        assert np.array_equal(a.spikes[name][1], b.spikes[name][1]), name


@pytest.mark.parametrize("numerics", ["float", "loihi", "spinnaker"])
def test_reference_in_chunks_with_a_bar_gives_the_same_spikes(monkeypatch, numerics):
    from snnc.backends import reference

    net = _active_network()
    whole = reference.simulate(net, 300, numerics)
    progress.configure(progress=True)
    monkeypatch.setattr(reference, "_PROGRESS_AFTER_S", -1.0)  # the bar from the first chunk
    shown = []
    real_start = progress.Bar._start
    monkeypatch.setattr(progress.Bar, "_start", lambda self: (shown.append(1), real_start(self)))
    chunked = reference.simulate(net, 300, numerics, progress=True)
    assert shown  # the bar path ran (in chunks of 3 steps)
    _same(whole, chunked)


def test_loihi_sim_in_chunks_gives_the_same_spikes(monkeypatch):
    from snnc.backends.loihi_sim import runner
    from snnc.backends.loihi_sim.backend import LoihiSimBackend

    net = _active_network(loihi=True)
    whole = LoihiSimBackend().run(net, 80)
    calls = []
    real_run_steps = runner._run_steps

    def counting(root, steps, progress_wanted):
        calls.append((steps, progress_wanted, progress.bars_enabled()))
        return real_run_steps(root, steps, progress_wanted)

    monkeypatch.setattr(runner, "_run_steps", counting)
    progress.configure(progress=True)
    chunked = LoihiSimBackend().run(net, 80, progress=True)
    assert calls == [(80, True, True)]  # the chunked path: 40 Lava run calls of 2 steps
    _same(whole, chunked)
    reference = __import__("snnc.backends.reference", fromlist=["simulate"]).simulate(
        net, 80, "loihi")
    _same(reference, chunked)  # and both equal the reference's Lava numerics


def _yaml(tmp_path) -> str:
    path = tmp_path / "net.yaml"
    _active_network().save(str(path))
    return str(path)


def test_compile_prints_stage_timings_unless_quiet(tmp_path):
    net = _yaml(tmp_path)
    runner = CliRunner()
    loud = runner.invoke(cli, ["compile", net, "-t", "reference", "-o", str(tmp_path / "b1")])
    assert loud.exit_code == 0, loud.output
    assert "  partition " in loud.stderr and "compiled for reference" in loud.stdout
    for args in (["-q", "compile", net, "-t", "reference", "-o", str(tmp_path / "b2")],
                 ["compile", net, "-t", "reference", "-o", str(tmp_path / "b3"), "--quiet"]):
        quiet = runner.invoke(cli, args)
        assert quiet.exit_code == 0, quiet.output
        assert (quiet.stdout, quiet.stderr) == ("", "")
    assert (tmp_path / "b2" / "report.json").is_file()  # quiet, not idle


def test_quiet_keeps_results_and_errors(tmp_path):
    net = _yaml(tmp_path)
    runner = CliRunner()
    run = runner.invoke(cli, ["run", net, "-t", "reference", "--steps", "50",
                              "-o", str(tmp_path / "s.npz"), "-q"])
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")
    assert (tmp_path / "s.npz").is_file()
    info = runner.invoke(cli, ["-q", "info", net])  # the tables are the result: kept
    assert info.exit_code == 0 and "projections" in info.stdout
    bad = runner.invoke(cli, ["-q", "validate", str(tmp_path / "absent.yaml")])
    assert bad.exit_code == 2 and "cannot read" in bad.stderr  # errors: kept


def test_every_command_takes_quiet_and_progress():
    for name, command in cli.commands.items():
        options = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert {"--quiet", "--progress"} <= options, name


def test_progress_flag_shows_a_bar_off_a_terminal(tmp_path, monkeypatch):
    from snnc.backends import reference

    monkeypatch.setattr(reference, "_PROGRESS_AFTER_S", -1.0)
    net = _yaml(tmp_path)
    runner = CliRunner()
    plain = runner.invoke(cli, ["run", net, "-t", "reference", "--steps", "400",
                                "-o", str(tmp_path / "a.npz")])
    assert plain.exit_code == 0 and "simulating" not in plain.stderr  # not a terminal
    shown = runner.invoke(cli, ["run", net, "-t", "reference", "--steps", "400",
                                "-o", str(tmp_path / "b.npz"), "--progress"])
    assert shown.exit_code == 0, shown.output
    assert "simulating" in shown.stderr
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_emulator_tick_loop_in_chunks_gives_the_same_spikes_and_counters(monkeypatch):
    from snnc.backends.spinnaker_emu import SpinnakerEmuBackend
    from snnc.compiler import compile_network

    build = compile_network(_active_network(), "spinnaker-emu")
    whole_backend = SpinnakerEmuBackend()
    whole = whole_backend.run(build, 300)
    progress.configure(progress=True)
    updates = []
    real_update = progress.Bar.update
    monkeypatch.setattr(progress.Bar, "update",
                        lambda self, done, what="": (updates.append(done),
                                                     real_update(self, done, what)))
    chunked_backend = SpinnakerEmuBackend()
    chunked = chunked_backend.run(build, 300, progress=True)
    assert updates == list(range(3, 301, 3))  # 100 chunks of 3 ticks
    _same(whole, chunked)
    assert whole_backend.provenance == chunked_backend.provenance  # every counter too


def test_the_python_api_takes_progress_and_keeps_the_spikes(monkeypatch):
    import snnc
    from snnc.backends import reference

    net = _active_network()
    plain = snnc.run(net, "reference", 200)
    progress.configure(progress=True)
    monkeypatch.setattr(reference, "_PROGRESS_AFTER_S", -1.0)
    shown = snnc.run(net, "reference", 200, progress=True)
    for name in plain.spikes:
        assert all(np.array_equal(a, b) for a, b in zip(plain.spikes[name], shown.spikes[name]))

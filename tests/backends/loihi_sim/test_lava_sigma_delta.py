"""``sigma_delta`` on loihi-sim: Lava's own ``SigmaDelta`` against the reference's loihi numerics.

1. Lava's ``SigmaDelta`` processes run directly (RingBuffer -> Sparse -> A -> DelaySparse(graded)
   -> B, and A -> identity Sparse(graded) -> C, a probe whose ``sigma`` sums A's messages) equal
   ``simulate(..., "loihi")`` of the same network, every ``sigma`` of every step; A's messages
   are read back from C and B's input is large enough that Lava's int32 sums wrap (the reference
   wraps the neuron's input to int32 as Lava's int32 ports do).
2. loihi-sim (the backend: one Lava ``SigmaDelta`` for every sigma_delta population) on small
   random networks with sigma-delta layers, graded messages into sigma-delta and into loihi_lif,
   spikes into sigma-delta, recurrent graded synapses, delays up to 8: the recorded ``sigma`` of
   every population and the LIF spikes equal the reference's; probes compare the messages.
3. Populations that disagree on a parameter Lava holds once per process are refused in one line.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("lava")

from click.testing import CliRunner  # noqa: E402

from snnc.backends import first_divergence  # noqa: E402
from snnc.backends.loihi_sim import LoihiSimBackend  # noqa: E402
from snnc.backends.reference import simulate  # noqa: E402
from snnc.cli import cli  # noqa: E402
from snnc.ir import (  # noqa: E402
    LoihiLIF,
    Network,
    UnsupportedOnTarget,
    all_to_all,
    explicit,
    one_to_one,
    spike_times,
)
from snnc.models.sigma_delta import SigmaDelta  # noqa: E402


# ---- 1. Lava's SigmaDelta run directly ----------------------------------------------------------
def _lava_direct(tmp_path, steps, raster, layers, w1, w2, delays2, exp1, exp2):
    """Run the processes of the module docstring (1.); the sigma of A, B, C per step."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer
    from lava.proc.sdn.process import ActivationMode, SigmaDelta as LavaSigmaDelta
    from lava.proc.sparse.process import DelaySparse, Sparse
    from scipy.sparse import csr_matrix

    from snnc.backends.loihi_sim.lava_procs.sink import FileVoltageSink
    from snnc.backends.loihi_sim.runner import run_config

    procs = {}
    for name, (size, p) in layers.items():
        procs[name] = LavaSigmaDelta(
            shape=(size,), vth=p.vth, bias=np.asarray(p.bias), cum_error=p.cum_error,
            act_mode=ActivationMode.RELU if p.act_mode == "relu" else ActivationMode.UNIT,
            spike_exp=p.spike_exp, state_exp=p.state_exp)
    a, b, c = procs["a"], procs["b"], procs["c"]
    ring = RingBuffer(data=raster)
    s1 = Sparse(weights=csr_matrix(w1), weight_exp=exp1, num_weight_bits=8)
    s2 = DelaySparse(weights=csr_matrix(w2), delays=csr_matrix(delays2 - 1), weight_exp=exp2,
                     num_weight_bits=8, num_message_bits=24)
    s3 = Sparse(weights=csr_matrix(np.eye(a.a_in.shape[0], dtype=np.int64)), num_weight_bits=8,
                num_message_bits=24)
    ring.s_out.connect(s1.s_in)
    s1.a_out.connect(a.a_in)
    a.s_out.connect(s2.s_in)
    s2.a_out.connect(b.a_in)
    a.s_out.connect(s3.s_in)
    s3.a_out.connect(c.a_in)
    for name, proc in procs.items():
        sink = FileVoltageSink(size=proc.a_in.shape[0], num_steps=steps,
                               path=str(tmp_path / f"{name}.npz"))
        proc.s_out.connect(sink.s_in)
        sink.v_ref.connect_var(proc.sigma)
    try:
        a.run(condition=RunSteps(num_steps=steps), run_cfg=run_config(stock_models=True))
    finally:
        a.stop()
    return {name: np.load(tmp_path / f"{name}.npz")["v"].astype(np.int64) for name in procs}


def test_lavas_sigma_delta_equals_the_reference(tmp_path):
    steps, rng = 40, np.random.default_rng(5)
    raster = (rng.random((4, steps)) < 0.4).astype(np.int32)
    w1 = rng.integers(0, 256, (5, 4))  # excitatory: all 8 bits kept
    w2 = rng.integers(75, 128, (3, 5)) * 2 * rng.choice([-1, 1], (3, 5))  # mixed: Lava drops
    # the low bit, even weights stay
    w2[0] = np.abs(w2[0])
    delays2 = rng.integers(1, 6, (3, 5))
    exp1, exp2 = 7, 7  # big messages into big weights: B's sums pass int32
    layers = {"a": (5, SigmaDelta(vth=3, bias=rng.integers(-2000, 2000, 5), spike_exp=2)),
              "b": (3, SigmaDelta(vth=2, bias=[-5, 0, 5], act_mode="unit", cum_error=True,
                                  state_exp=3)),
              "c": (5, SigmaDelta(vth=0, act_mode="unit"))}
    got = _lava_direct(tmp_path, steps, raster, layers, w1, w2, delays2, exp1, exp2)

    net = Network("lava_sdn", dt=1.0)
    times, ids = np.nonzero(raster.T)
    net.source("inp", 4, spike_times(times=times, ids=ids))
    for name, (size, neuron) in layers.items():
        net.population(name, size, neuron)
    net.connect("inp", "a", all_to_all(), weight=w1.T.ravel(), weight_exp=exp1)
    net.connect("a", "b", all_to_all(), weight=w2.T.ravel(), delay=delays2.T.ravel(),
                weight_exp=exp2)
    net.connect("a", "c", one_to_one(), weight=1)
    want = simulate(net, steps, "loihi", record_v=list(layers)).voltages
    for name in layers:
        assert np.array_equal(got[name], want[name]), name

    messages = np.diff(got["c"], axis=0)  # A's message of step t is C's input at t + 1
    assert np.any(messages != 0) and np.any(messages == 0)  # graded and sparse
    exact_b_input = max(abs(int(w2[i] @ messages[t - delays2[i] + 1, np.arange(5)])) << exp2
                        for i in range(3) for t in range(6, steps - 1))
    assert exact_b_input > 2**31  # Lava's int32 Sparse sums did wrap
    assert np.any(got["b"] != 0)


# ---- 2. the loihi-sim backend on random networks -------------------------------------------------
def _sub_network(net: Network, rng: np.random.Generator, k: int, neuron: SigmaDelta) -> None:
    """inp -> sd1 -> sd2 (graded, delays), sd1 -> lif (graded into LIF), lif -> sd2 (spikes),
    sd2 -> sd2 (recurrent graded), and probes (one_to_one, weight 1) that sum sd1's and sd2's
    messages. Every sigma_delta population shares ``neuron``'s per-process fields."""
    p = f"n{k}_"
    sizes = {"sd1": int(rng.integers(2, 7)), "sd2": int(rng.integers(1, 5))}
    steps_spiking = rng.random((60, 5)) < rng.uniform(0.1, 0.5)
    times, ids = np.nonzero(steps_spiking)
    net.source(p + "inp", 5, spike_times(times=times, ids=ids))
    for name, size in sizes.items():
        bias = rng.integers(-200, 200, size) >> neuron.scale_exp
        net.population(p + name, size, SigmaDelta(**{**dict(neuron), "bias": bias}))
        net.population(p + name + "_probe", size, SigmaDelta(**{**dict(neuron), "bias": 0}))
        net.connect(p + name, p + name + "_probe", one_to_one(), weight=1)
    net.population(p + "lif", 3, LoihiLIF(du=int(rng.integers(0, 4096)), dv=300, vth=200,
                                          bias_mant=int(rng.integers(0, 50))))

    def project(pre: str, post: str, high: int, exps: tuple[int, ...], max_delay: int) -> None:
        n_pre, n_post = net.populations[p + pre].size, net.populations[p + post].size
        mask = rng.random((n_pre, n_post)) < 0.7
        pre_i, post_i = np.nonzero(mask)
        count = pre_i.size
        if count == 0:
            return
        low = -high if rng.random() < 0.6 else 0
        net.connect(p + pre, p + post, explicit(pre_i, post_i),
                    weight=rng.integers(low, high + 1, count),
                    delay=rng.integers(1, max_delay + 1, count),
                    weight_exp=int(rng.choice(exps)))

    project("inp", "sd1", 255, (0, 2, 4), 3)
    project("sd1", "sd2", 120, (0, 1, -1), 8)
    project("sd1", "lif", 60, (0, -2), 4)
    project("lif", "sd2", 255, (0, 3), 2)
    project("sd2", "sd2", 20, (-3, -2), 5)


@pytest.mark.parametrize("neuron", [
    SigmaDelta(vth=6, spike_exp=1, state_exp=1),
    SigmaDelta(vth=3, act_mode="unit", cum_error=True, spike_exp=0, state_exp=2),
], ids=["relu", "unit-cum_error"])
def test_loihi_sim_random_sigma_delta_networks_equal_the_reference(neuron):
    rng = np.random.default_rng(17 + int(neuron.cum_error))
    net = Network("sdn_random", dt=1.0)
    for k in range(4):  # one Lava run holds four independent sub-networks
        _sub_network(net, rng, k, neuron)
    steps = 60
    graded = [p.name for p in net.neuron_populations() if p.kind == "sigma_delta"]
    got = LoihiSimBackend().run(net, steps, record_v=graded)
    want = simulate(net, steps, "loihi", record_v=graded)
    lifs = [name for name in net.populations if name.endswith("_lif")]
    assert first_divergence(want, got, lifs) is None
    for name in graded:
        assert np.array_equal(got.voltages[name], want.voltages[name]), name
    assert sum(want.spikes[name][0].size for name in lifs) > 0  # graded input drove the LIFs
    probes = [name for name in graded if name.endswith("_probe")]
    messages = np.concatenate([np.diff(want.voltages[name], axis=0) for name in probes], axis=1)
    assert np.any(messages != 0) and np.mean(messages == 0) > 0.05  # graded, sometimes silent


# ---- 3. one Lava process per kind: per-process parameters must agree ------------------------------
def test_disagreeing_per_process_parameters_are_refused_in_one_line(tmp_path):
    net = Network("sdn_mixed", dt=1.0)
    net.source("inp", 2, spike_times(times=[0, 1], ids=[0, 1]))
    net.population("a", 2, SigmaDelta(vth=3))
    net.population("b", 2, SigmaDelta(vth=4))
    net.connect("inp", "a", weight=100)
    net.connect("inp", "b", weight=100)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        LoihiSimBackend().run(net, 5)  # refused before anything runs (check_network)
    message = str(refusal.value)
    assert "\n" not in message and "vth" in message and "sigma_delta" in message
    assert "'a'" in message and "'b'" in message  # the populations are named
    assert refusal.value.where == "populations.b.neuron.vth"
    net.save(tmp_path / "mixed.yaml")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "mixed.yaml"), "--target",
                                      "loihi-sim"])
    assert result.exit_code == 2 and "differ in vth" in result.output

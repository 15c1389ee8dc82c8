"""The ``hh`` model against independent integrations of the Hodgkin-Huxley equations it states.

Expectations come from code written here, not from ``models/hh.py``:

- ``_rk4``: classical Runge-Kutta (4th order) of the equations in ``HH``'s docstring at a step ten
  times finer than the model's sub-step, with the same per-step input semantics (the synaptic
  current ``i[t] = alpha_s i[t-1] + x[t]`` held through step ``t``; a spike in step ``t`` when
  ``v`` crosses ``v_th`` upwards in ``[t dt, (t+1) dt)``). A different integrator at a far finer
  step: agreement within the tolerances below says the model's exponential Euler computes the
  neuron, not only its own formulas.
- ``_exp_euler``: the docstring's exponential-Euler sub-step written again in numpy: the kernel
  must follow it to rounding (1e-9 mV), which pins the documented scheme.
- Brian2's ``exponential_euler`` of the same equations (``examples/COBAHH.py``'s rates), when
  ``brian2`` imports.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from snnc.backends.reference import simulate
from snnc.ir import Network, UnsupportedOnTarget, save, spike_times
from snnc.models import REGISTRY
from snnc.models.hh import HH
from snnc.models.jit import njit
from snnc.models.support import check_network

# Traub-Miles as Brian2's examples/COBAHH.py has it for a 20000 um^2 patch (pF, nS, mV).
PARAMS = dict(c_m=200.0, g_na=20000.0, g_k=6000.0, g_l=10.0, e_na=50.0, e_k=-90.0, e_l=-60.0,
              v_t=-63.0)


@njit(cache=True)
def _linoid(x, k):
    """``x / (exp(x/k) - 1)`` with its limit ``k`` at 0."""
    return k if x == 0.0 else x / math.expm1(x / k)


@njit(cache=True)
def _rates(v, v_t):
    u = v - v_t
    return (0.32 * _linoid(13.0 - u, 4.0), 0.28 * _linoid(u - 40.0, 5.0),
            0.128 * math.exp((17.0 - u) / 18.0), 4.0 / (1.0 + math.exp((40.0 - u) / 5.0)),
            0.032 * _linoid(15.0 - u, 5.0), 0.5 * math.exp((10.0 - u) / 40.0))


@njit(cache=True)
def _derivative(y, current, p):
    """d(v, m, h, n)/dt of the docstring's equations; ``p`` is ``PARAMS`` in order."""
    c_m, g_na, g_k, g_l, e_na, e_k, e_l, v_t = p
    v, m, h, n = y[0], y[1], y[2], y[3]
    am, bm, ah, bh, an, bn = _rates(v, v_t)
    i_ion = g_na * m ** 3 * h * (v - e_na) + g_k * n ** 4 * (v - e_k) + g_l * (v - e_l)
    return np.array([(current - i_ion) / c_m, am * (1.0 - m) - bm * m,
                     ah * (1.0 - h) - bh * h, an * (1.0 - n) - bn * n])


@njit(cache=True)
def _rk4_step(y, current, p, dt):
    k1 = _derivative(y, current, p)
    k2 = _derivative(y + dt / 2 * k1, current, p)
    k3 = _derivative(y + dt / 2 * k2, current, p)
    k4 = _derivative(y + dt * k3, current, p)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


@njit(cache=True)
def _relaxed(z, a, b, dt):
    return a / (a + b) + (z - a / (a + b)) * np.exp(-dt * (a + b))


@njit(cache=True)
def _exp_euler_step(y, current, p, dt):
    c_m, g_na, g_k, g_l, e_na, e_k, e_l, v_t = p
    v, m, h, n = y[0], y[1], y[2], y[3]
    am, bm, ah, bh, an, bn = _rates(v, v_t)
    sodium, potassium = g_na * m ** 3 * h, g_k * n ** 4
    g = sodium + potassium + g_l
    v_inf = (sodium * e_na + potassium * e_k + g_l * e_l + current) / g
    return np.array([v_inf + (v - v_inf) * np.exp(-dt * g / c_m), _relaxed(m, am, bm, dt),
                     _relaxed(h, ah, bh, dt), _relaxed(n, an, bn, dt)])


@njit(cache=True)
def _initial(v, v_t):
    am, bm, ah, bh, an, bn = _rates(v, v_t)
    return np.array([v, am / (am + bm), ah / (ah + bh), an / (an + bn)])


@njit(cache=True)
def _run(rk4, bias, x, alpha_s, dt, fine, p, v_th, v_init):
    """Neuron by neuron, step by step: (v at the end of each step, spiked in each step)."""
    steps, size = x.shape
    trace, crossed = np.zeros((steps, size)), np.zeros((steps, size), dtype=np.bool_)
    for k in range(size):
        y, i_syn = _initial(v_init, p[7]), 0.0
        for t in range(steps):
            i_syn = alpha_s * i_syn + x[t, k]
            for _ in range(fine):
                if rk4:
                    new = _rk4_step(y, bias[k] + i_syn, p, dt / fine)
                else:
                    new = _exp_euler_step(y, bias[k] + i_syn, p, dt / fine)
                crossed[t, k] |= y[0] < v_th <= new[0]
                y = new
            trace[t, k] = y[0]
    return trace, crossed


def _integrate(method, bias, x, tau_syn, dt, fine, v_th=-20.0, v_init=-60.0):
    """``len(x)`` steps of ``fine`` sub-steps each (``method`` "rk4" or "exp_euler"); ``x[t]``
    is the input (pA, a column per neuron) arriving at step ``t``. Returns (v at the end of
    each step, the spike steps of each neuron)."""
    alpha = math.exp(-dt / tau_syn) if tau_syn > 0 else 0.0
    p = tuple(float(PARAMS[name]) for name in PARAMS)
    trace, crossed = _run(method == "rk4", np.asarray(bias, dtype=float), x, alpha, dt, fine,
                          p, v_th, v_init)
    return trace, [np.flatnonzero(crossed[:, k]) for k in range(crossed.shape[1])]


def _network(dt, substeps, bias, tau_syn=0.0, inputs=(), weight=0.0) -> Network:
    net = Network("hh_test", dt=dt)
    bias = np.atleast_1d(np.asarray(bias, dtype=float))
    net.population("hh", bias.size, HH(bias=bias, tau_syn=tau_syn, substeps=substeps))
    if len(inputs):
        net.source("inp", 1, spike_times(times=list(inputs), ids=[0] * len(inputs)))
        net.connect("inp", "hh", weight=weight, delay=1)
    return net


def _snnc(net: Network, steps: int):
    record = simulate(net, steps, "float", record_v=["hh"])
    times, ids = record.spikes["hh"]
    size = net.populations["hh"].size
    return record.voltages["hh"], [times[ids == k] for k in range(size)]


def _input(steps: int, inputs, weight: float, delay: int = 1) -> np.ndarray:
    x = np.zeros((steps, 1))
    for s in inputs:
        x[s + delay] += weight  # a spike at step s over delay d arrives at s + d
    return x


# One action potential, evoked by a synaptic current on a neuron a negative bias keeps silent
# (the default Traub-Miles cell fires at about 14 Hz on its own).
DT, SUBSTEPS, STEPS = 0.1, 10, 400  # ms, sub-steps of 0.01 ms, 40 ms
SILENT_BIAS = -60.0  # pA


@pytest.mark.parametrize("tau_syn, weight", [(2.0, 2000.0), (0.0, 30000.0)])
def test_action_potential_against_rk4_at_a_10x_finer_step(tau_syn, weight):
    inputs = [100]
    x = _input(STEPS, inputs, weight)
    got_v, got_spikes = _snnc(_network(DT, SUBSTEPS, SILENT_BIAS, tau_syn, inputs, weight), STEPS)
    want_v, want_spikes = _integrate("rk4", [SILENT_BIAS], x, tau_syn, DT, 10 * SUBSTEPS)
    got, want = got_v[:, 0], want_v[:, 0]
    assert want.max() > 30.0 and want.min() < -75.0  # the input evokes an action potential
    assert len(want_spikes[0]) == 1 and len(got_spikes[0]) == 1
    spike = int(want_spikes[0][0])
    assert abs(int(got_spikes[0][0]) - spike) <= 1  # the same 0.1 ms step, or a neighbour
    # the tolerances, mV (measured errors of 0.01 ms sub-steps about half of each)
    assert np.max(np.abs(got[:spike - 3] - want[:spike - 3])) < 0.5  # the rise to threshold
    assert abs(got.max() - want.max()) < 3.0  # the peak (about +47 mV), sampled every 0.1 ms
    assert abs(got.min() - want.min()) < 0.6  # the after-hyperpolarization trough
    assert np.max(np.abs(got[spike + 30:] - want[spike + 30:])) < 1.0  # the recovery after it
    assert np.sqrt(np.mean((got - want) ** 2)) < 3.0  # the whole trace, rms


def test_kernel_is_the_documented_exponential_euler():
    inputs = [30, 60, 61]
    steps = 300
    x = _input(steps, inputs, 400.0)
    got_v, got_spikes = _snnc(_network(DT, SUBSTEPS, [0.0], 3.0, inputs, 400.0), steps)
    want_v, want_spikes = _integrate("exp_euler", [0.0], x, 3.0, DT, SUBSTEPS)
    assert np.max(np.abs(got_v - want_v)) < 1e-9
    assert np.array_equal(got_spikes[0], want_spikes[0]) and len(got_spikes[0]) > 0


BIASES = np.array([-60.0, 0.0, 100.0, 250.0, 500.0, 800.0])  # pA
FI_DT, FI_SUBSTEPS, FI_STEPS, FI_SKIP = 0.1, 10, 2500, 500  # 250 ms, the first 50 ms skipped


def _rate_hz(spike_steps: np.ndarray, dt: float) -> float:
    """Firing rate from the mean inter-spike interval after the transient; 0 when silent."""
    late = spike_steps[spike_steps >= FI_SKIP]
    return 0.0 if late.size < 2 else 1000.0 / (np.mean(np.diff(late)) * dt)


def test_f_i_curve_against_rk4():
    _, got_spikes = _snnc(_network(FI_DT, FI_SUBSTEPS, BIASES), FI_STEPS)
    x = np.zeros((FI_STEPS, BIASES.size))
    _, want_spikes = _integrate("rk4", BIASES, x, 0.0, FI_DT, 10 * FI_SUBSTEPS)
    got = np.array([_rate_hz(s, FI_DT) for s in got_spikes])
    want = np.array([_rate_hz(s, FI_DT) for s in want_spikes])
    assert want[0] == 0.0 and np.all(np.diff(want) > 0)  # silent, then rising with the current
    assert want[1] > 10.0  # 0 pA: the default cell fires on its own (about 14 Hz)
    assert got[0] == 0.0
    np.testing.assert_allclose(got[1:], want[1:], rtol=0.02)  # within 2 % (measured: 1.2 % at most)
    counts = np.array([[len(s) for s in got_spikes], [len(s) for s in want_spikes]])
    assert np.all(np.abs(counts[0] - counts[1]) <= 1)  # spikes in 250 ms, the last may straddle


def test_against_brian2():
    b2 = pytest.importorskip("brian2")
    b2.prefs.codegen.target = "numpy"
    dt, substeps, steps = 0.1, 4, 1500
    biases = np.array([0.0, 300.0])
    eqs = b2.Equations("""
    dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    I : amp
    """)
    mV, ms, nS, pF, pA = b2.mV, b2.ms, b2.nS, b2.pF, b2.pA
    namespace = dict(gl=10 * nS, El=-60 * mV, EK=-90 * mV, ENa=50 * mV, g_na=20000 * nS,
                     g_kd=6000 * nS, VT=-63 * mV, Cm=200 * pF)
    group = b2.NeuronGroup(biases.size, eqs, threshold="v > -20*mV", refractory="v > -20*mV",
                           method="exponential_euler", namespace=namespace,
                           dt=dt / substeps * ms)
    start = _initial(-60.0, PARAMS["v_t"])  # the gates at their steady state, as snnc starts
    group.v, group.m, group.h, group.n = start[0] * mV, start[1], start[2], start[3]
    group.I = biases * pA
    monitor = b2.SpikeMonitor(group)
    trace = b2.StateMonitor(group, "v", record=True, dt=dt * ms)  # at each step's start
    b2.Network(group, monitor, trace).run(steps * dt * ms, namespace=namespace)
    got_v, got_spikes = _snnc(_network(dt, substeps, biases), steps)
    want_v = np.asarray(trace.v / mV).T[1:]  # Brian2's v at the start of step t + 1
    assert np.max(np.abs(got_v[:-1] - want_v)) < 1e-6  # the same scheme, to rounding
    for k in range(biases.size):
        # Brian2 stamps a spike with the start of the sub-step in which v crossed
        want = np.floor(np.asarray(monitor.spike_trains()[k] / ms) / dt + 1e-9).astype(int)
        assert len(want) >= 2
        assert got_spikes[k].tolist() == want.tolist()


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_both_chips_refuse_in_one_line(target, tmp_path):
    net = _network(DT, SUBSTEPS, 0.0, 2.0, [3], 100.0)
    with pytest.raises(UnsupportedOnTarget) as refusal:
        check_network(net, target)
    message = str(refusal.value)
    assert "\n" not in message
    assert "population 'hh' is 'hh'" in message and target in message
    assert "Hodgkin-Huxley needs floating-point exponentials" in message
    path = tmp_path / "hh.yaml"
    save(net, path)
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    result = subprocess.run([sys.executable, "-c", code, "validate", str(path), "--target",
                             target], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_reference_runs_it_and_the_registry_lists_it():
    model = REGISTRY.get("hh")
    assert "float" in model.steps and not model.quantizers
    check_network(_network(DT, SUBSTEPS, 0.0), "reference")  # no refusal

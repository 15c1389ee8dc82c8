"""Wrong parameter names and values: one line naming the field and the close matches, in a
network file and in the Python builder; never pydantic's report or its links (issue 18)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.ir import LIF, LoihiLIF, Network, NetworkError, poisson
from snnc.ir.values import ParameterError, close_matches

LIF_FIELDS = ("kind, tau_mem, tau_syn, v_th, v_reset, v_leak, bias, v_init, refractory, reset, "
              "integrator, tau_syn_inh")
LOIHI_FIELDS = "kind, du, dv, vth, bias_mant, bias_exp, v_init, u_init, refractory, reset"

NET = """snnc: 1
name: n
populations:
  inp: {{size: 2, source: {{kind: poisson, rate_hz: 5}}}}
  hid: {{size: 3, neuron: {neuron}}}
projections:
  - {{from: inp, to: hid, weight: 0.5}}
"""


def test_close_matches_ignore_case_and_underscores_and_keep_only_the_near_best():
    assert close_matches("tau_m", ["tau_mem", "tau_syn", "v_th"]) == ["tau_mem"]
    assert close_matches("D_U", ["du", "dv", "vth"]) == ["du"]
    assert close_matches("Vth", ["v_th", "v_reset"]) == ["v_th"]
    assert close_matches("colour", ["name", "size", "neuron", "source"]) == []


@pytest.mark.parametrize("neuron,where,message", [
    ("{kind: lif, tau_m: 10}", "tau_m",  # the typo, not the 'tau_mem missing' it causes
     f"unknown field 'tau_m' for lif: did you mean tau_mem? (expected one of: {LIF_FIELDS})"),
    ("{kind: lif, tau_mem: 10, Vth: 1}", "Vth",
     f"unknown field 'Vth' for lif: did you mean v_th? (expected one of: {LIF_FIELDS})"),
    ("{kind: loihi_lif, d_u: 10, dv: 1, vth: 5}", "d_u",
     f"unknown field 'd_u' for loihi_lif: did you mean du? (expected one of: {LOIHI_FIELDS})"),
    ("{kind: loihi_lif, du: 10, dv: 1, vth: 5, colour: 2}", "colour",
     f"unknown field 'colour' for loihi_lif (expected one of: {LOIHI_FIELDS})"),
    ("{kind: loihi_lif, du: 10, dv: 1}", "vth", "required field missing"),
])
def test_wrong_names_in_a_network_file(tmp_path, neuron, where, message):
    path = tmp_path / "net.yaml"
    path.write_text(NET.format(neuron=neuron))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.output == f"{path}: populations.hid.neuron.{where}: {message}\n"


@pytest.mark.parametrize("build,message", [
    (lambda: LIF(tau_m=3.0), "unknown field 'tau_m' for LIF: did you mean LIF(tau_mem=...)? "
                             f"(expected one of: {LIF_FIELDS})"),
    (lambda: LoihiLIF(d_u=3, dv=1, vth=2),
     "unknown field 'd_u' for LoihiLIF: did you mean LoihiLIF(du=...)? "
     f"(expected one of: {LOIHI_FIELDS})"),
    (lambda: LIF(tau_mem=5.0, vthr=1.0),
     "unknown field 'vthr' for LIF: did you mean LIF(v_th=...)? "
     f"(expected one of: {LIF_FIELDS})"),
    (lambda: LoihiLIF(du=3, dv=1), "LoihiLIF: required field 'vth' missing (required: du, dv, "
                                   "vth)"),
    (lambda: LIF(tau_mem=-1.0), "LIF(tau_mem=...): must be > 0, got -1"),
    (lambda: LIF(tau_mem="fast"),
     "LIF(tau_mem=...): expected a number, a list or array, Normal or Uniform, got 'fast'"),
])
def test_wrong_names_in_the_python_builder(build, message):
    with pytest.raises(ParameterError) as error:
        build()
    text = str(error.value)
    assert text == message
    assert isinstance(error.value, NetworkError) and isinstance(error.value, ValueError)


def test_builder_calls_name_the_network_path_and_never_pydantic():
    net = Network("n")
    net.source("inp", 2, poisson(rate_hz=5.0))
    for call, message in [
        (lambda: net.population("hid", 3, {"kind": "lif", "tau_m": 3}),
         "populations.hid.neuron: unknown field 'tau_m' for LIF: did you mean LIF(tau_mem=...)?"),
        (lambda: net.population("hid", 3, LIF(tau_mem=2.0, tau_sin=1.0)),
         # two near-equal matches: both named
         "unknown field 'tau_sin' for LIF: did you mean LIF(tau_syn=...) or "
         "LIF(tau_syn_inh=...)?"),
    ]:
        with pytest.raises(NetworkError) as error:
            call()
        text = str(error.value)
        assert text.startswith(message), text
        assert "\n" not in text and "pydantic" not in text and "http" not in text

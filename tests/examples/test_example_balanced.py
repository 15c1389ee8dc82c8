"""examples/balanced_network: W1's known spike total, a verified run per target, rates, plots."""

import pytest
from example_loader import load_example

balanced = load_example("balanced_network")


@pytest.mark.parametrize("target", ["loihi-sim", "spinnaker-emu"])
def test_pipeline_on_target(tmp_path, target):
    records = balanced.run_all(1000, tmp_path, (target,))  # exits non-zero if verify fails
    # Brian2, NEST (iaf_psc_delta) and a numpy loop all give 12,394 spikes in 1000 steps
    assert records["reference (float)"].total == 12_394
    if target == "spinnaker-emu":  # integer weights and W1 parameters are exact in s16.15
        assert records[target].total == records["reference (float)"].total
    exc, inh = balanced.rates(records[target])
    assert 5 < exc < 20 and 5 < inh < 20  # "fires at about 10 Hz"
    for name in (f"raster-{target}.png", f"build-{target}/report.png",
                 f"build-{target}/report.txt"):
        assert (tmp_path / name).stat().st_size > 1000

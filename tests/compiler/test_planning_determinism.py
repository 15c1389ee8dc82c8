"""Planning chips give the same build in every process, and refuse options that cannot apply.

The Speck core each layer gets was a networkx matching over hashed string node ids, so it followed
``PYTHONHASHSEED``; ``rules.assign_layers`` now works on lists in layer and core order.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from snnc.cli import cli
from snnc.compiler.mapping.rules import assign_layers
from snnc.ir import LIF, Network, all_to_all, poisson, save

ROOT = Path(__file__).resolve().parents[2]
CNN = ROOT / "tests" / "data" / "nir" / "cnn_sinabs.nir"
BUILD_FILES = ("mapping.json", "network.npz", "network.yaml", "report.json", "report.txt",
               "routing.npz")


def _snnc(*args: str, seed: str) -> subprocess.CompletedProcess:
    code = "import sys; from snnc.cli import main; sys.argv[0] = 'snnc'; main()"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_speck_build_is_the_same_under_every_hash_seed(tmp_path):
    net = tmp_path / "cnn.yaml"
    done = _snnc("import-nir", str(CNN), "--dt", "0.001", "-o", str(net), seed="0")
    assert done.returncode == 0, done.stderr
    builds = []
    for seed in ("0", "1", "2"):
        out = tmp_path / f"build{seed}"
        done = _snnc("compile", str(net), "-t", "reference", "--hardware", "speck", "-o", str(out),
                     "-q", seed=seed)
        assert done.returncode == 0, done.stderr
        builds.append(out)
    assert sorted(p.name for p in builds[0].iterdir()) == sorted(BUILD_FILES)
    for name in BUILD_FILES:
        first = (builds[0] / name).read_bytes()
        for other in builds[1:]:
            assert (other / name).read_bytes() == first, f"{name} differs under another seed"
    layers = json.loads((builds[0] / "report.json").read_text())["totals"]["planning"]["layers"]
    # By hand, Sinabs' memory_summary from the NIR nodes: kernel = c_in * 2^(ceil log2(kx*ky) +
    # ceil log2 c_out), neurons = c_out * 2^(ceil log2 h + ceil log2 w)
    expected_memory = {
        "1": (2 * 2 ** (5 + 4), 16 * 2 ** (4 + 4)),    # Conv2d 16x2x5x5, map 16x16x16
        "3": (16 * 2 ** (4 + 4), 16 * 2 ** (4 + 4)),   # Conv2d 16x16x3x3, map 16x16x16
        "6": (16 * 2 ** (4 + 3), 8 * 2 ** (3 + 3)),    # Conv2d 8x16x3x3, map 8x8x8
        "10": (8 * 2 ** (4 + 8), 256),                 # Affine 256x128 of an 8x4x4 map
        "12": (256 * 2 ** (0 + 4), 10),                # Affine 10x256 of 256 channels
    }
    assert {name: (layer["kernel_memory"], layer["neuron_memory"])
            for name, layer in layers.items()} == expected_memory
    # The Speck spec has kernel 16/16/16/32/32/64/64/16/16 Ki and neurons 64/64/64/32/32/16/16/
    # 16/16 Ki entries. '1' (1,024, 4,096), '3' (4,096, 4,096) and '6' (2,048, 512) fit every
    # core, so in layer order they take cores 0, 1, 2; '10' (32,768 kernel) fits only cores 3-6
    # and takes 3; '12' (4,096, 10) takes the lowest core left, 4. All five layers are placed.
    assert {name: layer["core"] for name, layer in layers.items()} == \
        {"1": 0, "3": 1, "6": 2, "10": 3, "12": 4}


def _first_largest(fits: list[list[int]], n_cores: int) -> list[int | None]:
    """Brute force: every injective assignment; the first (by core, 'none' last) among those that
    place the most layers."""
    best_key: tuple | None = None
    best: list[int | None] = []
    choices = [list(f) + [None] for f in fits]
    for pick in itertools.product(*choices):
        used = [c for c in pick if c is not None]
        if len(used) != len(set(used)):
            continue
        key = (-len(used), tuple(n_cores if c is None else c for c in pick))
        if best_key is None or key < best_key:
            best_key, best = key, list(pick)
    return best


def test_assignment_is_the_first_largest_one():
    # layer 0 fits cores 0 and 1, layer 1 only core 0: first fit would strand layer 1
    assert assign_layers([[0, 1], [0]], 2) == [1, 0]
    # two layers want core 0 only: one is left out (the first), the third keeps core 1
    assert assign_layers([[0], [0], [1]], 2) == [0, None, 1]
    # a layer no core holds
    assert assign_layers([[], [0]], 1) == [None, 0]
    rng = random.Random(7)
    for _ in range(300):
        n_layers, n_cores = rng.randint(1, 6), rng.randint(1, 5)
        fits = [sorted(rng.sample(range(n_cores), rng.randint(0, n_cores)))
                for _ in range(n_layers)]
        assert assign_layers(fits, n_cores) == _first_largest(fits, n_cores), fits


def _small_net(path: Path) -> str:
    net = Network("small")
    net.source("inp", 4, poisson(10.0, 0))
    net.population("hid", 20, LIF(tau_mem=20e-3, v_th=1.0))
    net.population("out", 2, LIF(tau_mem=20e-3, v_th=1.0))
    net.connect("inp", "hid", all_to_all(), weight=0.5, name="w_in")
    net.connect("hid", "out", all_to_all(), weight=0.5, name="w_out")
    save(net, str(path))
    return str(path)


@pytest.mark.parametrize("hardware, words", [
    ("speck", "SynSense Speck / DYNAP-CNN (speck, core model conv) puts each layer"),
    ("xylo-audio2", "SynSense Xylo Audio 2 (xylo-audio2, core model fixed) is one core"),
])
def test_max_neurons_per_core_is_refused_where_it_cannot_apply(tmp_path, hardware, words):
    net = _small_net(tmp_path / "net.yaml")
    out = tmp_path / "build"
    result = CliRunner().invoke(cli, ["compile", net, "-t", "reference", "--hardware", hardware,
                                      "--max-neurons-per-core", "5", "-o", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith(f"--max-neurons-per-core: {words}")
    assert lines[0].endswith("so a cap on neurons per core cannot apply — drop the option")
    assert not out.exists()  # refused before any work
    # without the option the same network compiles on that chip
    result = CliRunner().invoke(cli, ["compile", net, "-t", "reference", "--hardware", hardware,
                                      "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output


def test_max_neurons_per_core_still_splits_truenorth_cores(tmp_path):
    net = _small_net(tmp_path / "net.yaml")
    cores = {}
    for cap in (None, 5):
        out = tmp_path / f"build{cap}"
        args = ["compile", net, "-t", "reference", "--hardware", "truenorth", "-o", str(out), "-q"]
        if cap is not None:
            args += ["--max-neurons-per-core", str(cap)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        cores[cap] = json.loads((out / "report.json").read_text())["totals"]["cores"]
    # 22 neurons: one core of 256 without the cap; with 5 per core, 20 hidden -> 4, 2 out -> 1
    assert cores == {None: 1, 5: 5}

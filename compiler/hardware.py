"""Hardware as data: a ``HardwareSpec`` per chip family, built-in ones in ``compiler/specs/*.yaml``.

``load_hardware("loihi2")`` reads a built-in spec; ``load_hardware("my.yaml")`` reads a user file
with the same fields. A user file may start from a built-in one with ``base: spinnaker1`` and change
only some fields (e.g. ``chips_x: 12, chips_y: 12, chip_layout: full, wrap: true`` for a
three-board SpiNNaker machine). The mapping code is generic over these fields.

Synaptic memory per core is estimated from the target's storage format (``memory_bytes``):

.. math::

    bytes = \\lceil (synapses \\cdot synapse\\_bits + rows \\cdot axon\\_bits) / 8 \\rceil

where ``rows`` is the number of input axons (Loihi: distinct pre neurons that reach the core;
SpiNNaker: synaptic rows, one per pre neuron and delay stage).

Chips that no snnc backend runs are ``family: planning``: ``snnc compile --target reference
--hardware NAME`` partitions onto them and checks their rules (``mapping/rules.py``), nothing
simulates them. ``core_model`` says what a core is (docs/hardware-specs.md):

* ``synaptic`` (Loihi, SpiNNaker, Akida): neurons plus synaptic memory, the limits above;
* ``crossbar`` (TrueNorth): ``axons_per_core`` x ``neurons_per_core`` binary synapses; every axon
  has one of ``axon_types`` types and a neuron one signed weight per type, so the neurons of a core
  see at most ``axon_types`` distinct weights each;
* ``conv`` (Speck, DYNAP-CNN): one layer (population) per core, within the core's kernel and
  neuron memories (Sinabs' ``memory_summary``:
  :math:`kernel = c_{in} \\cdot 2^{\\lceil \\log_2 k_x k_y \\rceil + \\lceil \\log_2 c_{out} \\rceil}`,
  :math:`neurons = c_{out} \\cdot 2^{\\lceil \\log_2 h \\rceil + \\lceil \\log_2 w \\rceil}`);
* ``fixed`` (Xylo): the whole network is at most ``inputs`` input channels, ``hidden_neurons``
  recurrent neurons and ``outputs`` readout neurons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from snnc.ir.errors import SnncError
from snnc.models.targets import get_target

SPEC_DIR = Path(__file__).resolve().parent / "specs"
BUILTIN = ("loihi2", "loihi1", "spinnaker1", "truenorth", "xylo-audio2", "xylo-audio3",
           "xylo-imu", "speck", "akida-akd1000")
CORE_MODELS = ("synaptic", "crossbar", "conv", "fixed")
# the fields each core model needs (docs/hardware-specs.md)
MODEL_FIELDS = {
    "crossbar": ("axons_per_core", "axon_types"),
    "conv": ("kernel_memory_per_core", "neuron_memory_per_core"),
    "fixed": ("inputs", "hidden_neurons", "outputs"),
}
# every field of a core model's rules (``snnc targets`` lists those of the spec's model only)
MODEL_OWN_FIELDS = {
    "crossbar": ("axons_per_core", "axon_types", "binary_synapses", "targets_per_neuron"),
    "conv": ("kernel_memory_per_core", "neuron_memory_per_core", "bias_memory_per_core",
             "destinations_per_core"),
    "fixed": ("inputs", "hidden_neurons", "outputs", "fan_out_per_neuron"),
}
# fields of the Loihi/SpiNNaker machines that a planning chip lists only when its spec sets them
MACHINE_FIELDS = ("source_neurons_per_core", "delay_slots", "delay_stages", "ring_buffer_entries",
                  "receptors", "router_entries_per_chip", "clock_hz", "time_scale_factor",
                  "load_headroom")
IDENTITY_FIELDS = {"name", "family", "description", "topology", "chips_x", "chips_y", "uncertain",
                   "chip_layout", "wrap"}

# The 48 chips of a SpiNN-5 board within its 8x8 footprint (spinn_machine version_48_chips.py):
# column x holds chips y = SPINN5_Y[x][0] .. SPINN5_Y[x][1].
# Bounds on a user's spec: the mapping code holds per-chip and per-core tables in memory.
MAX_CHIPS_PER_SIDE = 256  # the million-core SpiNNaker machine is 240 x 240 chips
MAX_CORES = 2**20

PLANNING_LIMITS = ("axons_per_core", "axon_types", "targets_per_neuron", "destinations_per_core",
                   "bias_memory_per_core", "inputs", "hidden_neurons", "outputs",
                   "fan_out_per_neuron")

SPINN5_Y = ((0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (1, 7), (2, 7), (3, 7))


class HardwareSpec(BaseModel):
    """One machine: its chips, per-core limits and router limits. ``None`` means not limited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    family: Literal["loihi", "spinnaker", "planning"]
    """``planning``: no backend runs the chip; snnc only plans resources for it."""
    core_model: Literal["synaptic", "crossbar", "conv", "fixed"] = "synaptic"
    description: str = ""
    topology: Literal["mesh", "hexagonal"]
    chips_x: int = Field(ge=1, le=MAX_CHIPS_PER_SIDE)
    chips_y: int = Field(ge=1, le=MAX_CHIPS_PER_SIDE)
    chip_layout: Literal["full", "spinn5"] = "full"
    wrap: bool = False
    cores_per_chip: int = Field(ge=1, le=4096)
    neurons_per_core: int = Field(ge=1, le=2**20)
    source_neurons_per_core: int | None = Field(default=None, ge=1, le=2**20)
    memory_bytes_per_core: int = Field(ge=1, le=2**40)
    synapse_bits: int = Field(ge=1, le=64)
    axon_bits: int = Field(ge=0, le=256)
    fan_in_per_core: int | None = Field(default=None, ge=1, le=2**31 - 1)
    fan_out_per_core: int | None = Field(default=None, ge=1, le=2**31 - 1)
    weight_bits: int = Field(default=8, ge=1, le=32)
    max_delay: int = Field(ge=1, le=65535)
    delay_slots: int | None = Field(default=None, ge=1, le=65535)
    delay_stages: int = Field(default=0, ge=0, le=1024)
    ring_buffer_entries: int | None = Field(default=None, ge=1, le=2**26)
    receptors: int = Field(default=1, ge=1, le=16)
    router_entries_per_chip: int | None = Field(default=None, ge=0, le=2**20)
    sources_on_cores: bool = False
    clock_hz: int | None = Field(default=None, ge=1, le=10**12)
    """Cycles per second of an application core whose ticks have a deadline (SpiNNaker's ARM968:
    200 MHz); None: no per-tick cycle budget (Loihi's barrier-synchronised steps)."""
    time_scale_factor: float = Field(default=1.0, gt=0, le=1e6)
    """sPyNNaker's ``time_scale_factor``: each tick lasts ``dt * time_scale_factor`` of wall time,
    so a core has ``clock_hz * dt / 1000 * time_scale_factor`` cycles per tick."""
    load_headroom: float = Field(default=0.5, gt=0, le=1)
    """The mean load a core may have, as a fraction of its cycles per tick: ticks with bursts of
    spikes cost more than the mean (the busiest tick of W1 costs 1.5x its mean)."""
    # ---- crossbar cores (TrueNorth) ----
    axons_per_core: int | None = Field(default=None, ge=1, le=2**20)
    """Input axons of a crossbar core: one per (pre neuron, delay) that reaches it."""
    axon_types: int | None = Field(default=None, ge=1, le=256)
    """Each axon has one type; a neuron has one signed weight per type."""
    binary_synapses: bool = False
    """A core's synapses are a 0/1 matrix: at most one synapse per (axon, neuron)."""
    targets_per_neuron: int | None = Field(default=None, ge=1, le=2**20)
    """Destinations (core, delay) one neuron's spike can address (TrueNorth: 1 axon)."""
    # ---- conv-layer cores (Speck, DYNAP-CNN) ----
    kernel_memory_per_core: tuple[int, ...] | None = None
    """Kernel (weight) memory of each core, in entries (Sinabs counts entries, not bytes)."""
    neuron_memory_per_core: tuple[int, ...] | None = None
    """Neuron-state memory of each core, in entries."""
    bias_memory_per_core: int | None = Field(default=None, ge=1, le=2**20)
    destinations_per_core: int | None = Field(default=None, ge=1, le=1024)
    """Layers one layer's core may send to."""
    # ---- fixed input/hidden/output counts (Xylo) ----
    inputs: int | None = Field(default=None, ge=1, le=2**20)
    hidden_neurons: int | None = Field(default=None, ge=1, le=2**20)
    outputs: int | None = Field(default=None, ge=1, le=2**20)
    fan_out_per_neuron: int | None = Field(default=None, ge=1, le=2**20)
    """Post neurons one neuron may have synapses onto."""
    uncertain: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _machine_size(self) -> "HardwareSpec":
        chips = self.chips_x * self.chips_y
        if chips * self.cores_per_chip > MAX_CORES:
            raise ValueError(f"{chips:,} chips x {self.cores_per_chip} cores is more than "
                             f"{MAX_CORES:,} cores (the most snnc maps onto)")
        return self

    @model_validator(mode="after")
    def _core_model(self) -> "HardwareSpec":
        """Loihi and SpiNNaker run on backends that know only synaptic cores; the other core
        models need their fields (and conv cores one memory entry per core)."""
        if self.family != "planning" and self.core_model != "synaptic":
            raise ValueError(f"core_model '{self.core_model}' needs family: planning (the "
                             f"{self.family} backends run synaptic cores only)")
        missing = [f for f in MODEL_FIELDS.get(self.core_model, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"core_model '{self.core_model}' needs {', '.join(missing)}")
        cores = len(self.chips()) * self.cores_per_chip
        for field in ("kernel_memory_per_core", "neuron_memory_per_core"):
            value = getattr(self, field)
            if value is not None and (len(value) != cores or min(value) < 1):
                raise ValueError(f"{field} needs one positive entry count per core ({cores:,} "
                                 f"cores), got {len(value)}")
        return self

    def chips(self) -> list[tuple[int, int]]:
        """Usable chips in machine order (x, then y)."""
        if self.chip_layout == "spinn5":
            return [(x, y) for x in range(min(self.chips_x, 8))
                    for y in range(SPINN5_Y[x][0], min(SPINN5_Y[x][1], self.chips_y - 1) + 1)]
        return [(x, y) for x in range(self.chips_x) for y in range(self.chips_y)]

    @property
    def max_cores(self) -> int:
        return len(self.chips()) * self.cores_per_chip

    @property
    def input_axon_limit(self) -> int | None:
        """Distinct pre neurons a core may receive from (fan-in, or a crossbar's axons)."""
        limits = [v for v in (self.fan_in_per_core, self.axons_per_core) if v is not None]
        return min(limits) if limits else None

    @property
    def source_capacity(self) -> int:
        return self.source_neurons_per_core or self.neurons_per_core

    def memory_bytes(self, synapses: int, rows: int) -> int:
        """Synaptic memory of ``synapses`` synapses in ``rows`` rows/axons (see module docstring)."""
        return -(-(synapses * self.synapse_bits + rows * self.axon_bits) // 8)

    def cycles_per_tick(self, dt: float) -> int | None:
        """The real-time budget of one core in one tick of ``dt`` ms (None: not limited)."""
        if self.clock_hz is None:
            return None
        return int(round(self.clock_hz * dt / 1000.0 * self.time_scale_factor))

    def listed_fields(self) -> dict[str, object]:
        """The fields ``snnc targets`` lists: all but the identity ones and the rules of the
        other core models."""
        other = {field for model, fields in MODEL_OWN_FIELDS.items() if model != self.core_model
                 for field in fields}
        if self.core_model in ("conv", "fixed"):  # their own rules count memory, not the walker
            other |= {"memory_bytes_per_core", "synapse_bits", "axon_bits"}
        if self.family == "planning":  # the machine fields of Loihi/SpiNNaker, where left unset
            other |= {f for f in MACHINE_FIELDS
                      if getattr(self, f) == HardwareSpec.model_fields[f].default}
        return self.model_dump(exclude=IDENTITY_FIELDS | other)

    def limits(self) -> dict[str, int | None]:
        """The limits a report lists (the per-core ones first)."""
        return {
            "neurons_per_core": self.neurons_per_core,
            "memory_bytes_per_core": self.memory_bytes_per_core,
            "fan_in_per_core": self.fan_in_per_core,
            "cores_per_chip": self.cores_per_chip,
            "fan_out_per_core": self.fan_out_per_core,
            "chips": len(self.chips()),
            "max_delay": self.max_delay,
            "delay_slots": self.delay_slots,
            "router_entries_per_chip": self.router_entries_per_chip,
            "weight_bits": self.weight_bits,
            # the rules of the other core models, only where set (older reports stay the same)
            **{field: getattr(self, field) for field in PLANNING_LIMITS
               if getattr(self, field) is not None},
        }


def _read_yaml(path: Path, where: str) -> dict:
    from snnc.ir.io import read_yaml, yaml_error

    try:
        document = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise yaml_error(exc, str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise SnncError(f"cannot read hardware spec: {reason}", where=where,
                        file=str(path)) from None
    if not isinstance(document, dict):
        raise SnncError("a hardware spec is a mapping of fields", where=where, file=str(path))
    return document


def _spec(fields: dict, file: str) -> HardwareSpec:
    try:
        return HardwareSpec(**fields)
    except ValidationError as exc:
        errors = exc.errors()
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _unknown_field(where)
        elif not where:  # a rule over several fields: name the field its message starts with
            head = message.split(" ", 1)[0]
            where = head if head in HardwareSpec.model_fields else "hardware"
        raise SnncError(message, where=where, file=file) from None
    except TypeError as exc:  # a non-string key
        raise SnncError(f"a hardware spec is a mapping of field names: {exc}", where="hardware",
                        file=file) from None


def _unknown_field(name: str) -> str:
    from snnc.ir.values import close_matches

    matches = close_matches(name, [*HardwareSpec.model_fields, "base"])
    guess = f"did you mean {' or '.join(matches)}? " if matches else ""
    return f"unknown field '{name}': {guess}(every field: docs/hardware-specs.md)"


def load_hardware(name_or_path: "str | HardwareSpec") -> HardwareSpec:
    """A built-in spec by name, or a user YAML file (optionally ``base: NAME`` plus overrides)."""
    if isinstance(name_or_path, HardwareSpec):
        return name_or_path
    if name_or_path in BUILTIN:
        return _spec(_read_yaml(SPEC_DIR / f"{name_or_path}.yaml", "--hardware"), name_or_path)
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") or not path.exists():
        raise SnncError(f"unknown hardware '{name_or_path}' (built-in: {', '.join(BUILTIN)}, "
                        "or a SPEC.yaml file)", where="--hardware")
    fields = _read_yaml(path, "hardware")
    base = fields.pop("base", None)
    if base is not None:
        if base not in BUILTIN:
            raise SnncError(f"unknown base '{base}' (built-in: {', '.join(BUILTIN)})",
                            where="base", file=str(path))
        fields = _read_yaml(SPEC_DIR / f"{base}.yaml", base) | fields
    return _spec(fields, str(path))


def hardware_for(target: str, hardware: "str | HardwareSpec | None") -> HardwareSpec:
    """The spec for ``target`` (its default when ``hardware`` is None), checked against the target."""
    definition = get_target(target)
    spec = load_hardware(hardware if hardware is not None else definition.hardware)
    family = definition.family
    if family is not None and spec.family != family:
        raise SnncError(f"hardware '{spec.name}' is a {spec.family} machine; target '{target}' "
                        f"needs a {family} one", where="--hardware")
    return spec

"""The targets, each defined once: the CLI's choices, the pipeline, quantization, lowering and the
reports all read this table (``TARGETS``); no other module spells a target's name.

A target is a backend plus the numerics it is bit-exact to: ``snnc verify --target T`` compares
T's backend with the reference's ``T.numerics``. The reference target runs the float network as it
is (integer kinds in their own numerics).
"""

from __future__ import annotations

from dataclasses import dataclass

from snnc.ir.errors import SnncError


@dataclass(frozen=True)
class Target:
    """One compile/run target."""

    name: str
    numerics: str  # the reference numerics this target is bit-exact to
    hardware: str  # default hardware spec (compiler/specs/NAME.yaml)
    family: str | None  # hardware family a spec must have (None: any)
    backend: str  # "module:attribute" of the backend class, imported on first use
    summary: str
    max_delay: int | None  # longest delay (steps) the backend runs; None: any
    delay_extension: bool  # delays beyond a core's slots go through extra cores (counted in the report)
    quantizes: bool  # compile converts float models to the target's integer models
    verifiable: bool  # snnc verify compares it with the reference
    graded: bool = False  # non-spiking populations may feed later layers (graded messages)
    extra: str | None = None  # pip extra the backend needs
    aliases: tuple[str, ...] = ()  # other names quantize accepts (the numerics' name)


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target(name="loihi-sim", numerics="loihi", hardware="loihi2", family="loihi",
           backend="snnc.backends.loihi_sim:LoihiSimBackend",
           summary="Intel Loihi through Lava 0.10's fixed-point CPU simulator",
           max_delay=64, delay_extension=True, quantizes=True, verifiable=True, graded=True,
           extra="lava", aliases=("loihi",)),
    Target(name="spinnaker-emu", numerics="spinnaker", hardware="spinnaker1", family="spinnaker",
           backend="snnc.backends.spinnaker_emu:SpinnakerEmuBackend",
           summary="SpiNNaker 1 through snnc's core-mapped emulator (s16.15, packets, routers)",
           max_delay=None, delay_extension=True, quantizes=True, verifiable=True, graded=True,
           aliases=("spinnaker",)),
    Target(name="reference", numerics="float", hardware="loihi2", family=None,
           backend="snnc.backends.reference:ReferenceBackend",
           summary="the bit-accurate CPU reference (float; --numerics loihi|spinnaker)",
           max_delay=None, delay_extension=False, quantizes=False, verifiable=False,
           graded=True),
)}

TARGET_NAMES = tuple(TARGETS)
REFERENCE = next(t.name for t in TARGETS.values() if not t.quantizes)
"""The target that runs the float network as it is (the meaning every chip target is checked
against)."""
COMPILE_TARGETS = TARGET_NAMES
VERIFY_TARGETS = tuple(t.name for t in TARGETS.values() if t.verifiable)
QUANTIZE_TARGETS = tuple(t.name for t in TARGETS.values() if t.quantizes)
NUMERICS = tuple(dict.fromkeys(["float", *(t.numerics for t in TARGETS.values())]))


def get_target(name: str, where: str = "--target") -> Target:
    """The target called ``name`` (or one of its aliases); unknown names are a one-line error."""
    target = TARGETS.get(name)
    if target is None:
        target = next((t for t in TARGETS.values() if name in t.aliases), None)
    if target is None:
        raise SnncError(f"unknown target '{name}' (known: {', '.join(TARGETS)})", where=where)
    return target


def target_for_numerics(numerics: str) -> Target:
    """The chip target whose integers are ``numerics`` (``loihi`` -> loihi-sim)."""
    for target in TARGETS.values():
        if target.numerics == numerics and target.quantizes:
            return target
    raise SnncError(f"no target runs '{numerics}' numerics (known: {', '.join(NUMERICS)})",
                    where="--numerics")

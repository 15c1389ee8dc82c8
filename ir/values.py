"""Values that may be a scalar, a numpy array, or a seeded random distribution.

Neuron parameters, weights and delays all use the same ``Value`` type:

- a Python/numpy scalar: the same value everywhere;
- a 1-D numpy array: one value per neuron (neuron parameters) or per connection (weights, delays);
- ``Normal(mean, std, seed)`` / ``Uniform(lo, hi, seed)``: drawn from ``numpy.random.default_rng(seed)``
  when the value is resolved, so the same seed and count always give the same numbers.

Arrays are stored read-only so that passes can share them between networks without copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Union

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    model_validator,
)

from .errors import NetworkError


def freeze(array: np.ndarray) -> np.ndarray:
    """Return the array made read-only (a view when it was writeable, so the caller's copy is kept)."""
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


def _coerce_array(value: Any) -> Any:
    """Lists and tuples of numbers become frozen 1-D arrays; arrays are frozen; scalars pass.

    ``True``/``False`` are refused: a boolean where a number belongs is a mistake, not 1 or 0.
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"expected a number, got {bool(value)}")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"expected a 1-D array, got shape {value.shape}")
        return freeze(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value
    ):
        array = np.asarray(value)
        if array.dtype.kind not in "iuf":  # integers beyond 64 bits become Python objects
            raise ValueError("numbers must fit in 64 bits")
        return freeze(array)
    return value


Array = Annotated[np.ndarray, BeforeValidator(_coerce_array)]
"""A read-only 1-D numpy array (lists are converted)."""


def _no_bool(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"expected an integer, got {bool(value)}")
    return value


Int = Annotated[int, BeforeValidator(_no_bool)]
"""An integer field that refuses ``true``/``false`` (pydantic would otherwise read them as 1/0)."""

Seed = Annotated[int, BeforeValidator(_no_bool), Field(ge=0)]
"""A random seed: a non-negative integer (``numpy.random.default_rng`` refuses negative ones)."""


class ParameterError(NetworkError, ValueError):
    """A parameter object built with a bad field (``LIF(tau_m=3)``), as one line naming the
    field and, for an unknown one, the close matches (difflib). ``field`` is the field's dotted
    path and ``file_message`` the same message in a network file's terms (no Python syntax),
    which ``ir.io.build`` puts after the YAML path. A ValueError too, so that code catching the
    ValueError pydantic raised before keeps working."""

    def __init__(self, message: str, *, field: str, file_message: str) -> None:
        super().__init__(message)
        self.field = field
        self.file_message = file_message


def close_matches(name: str, fields: Any) -> list[str]:
    """Fields that look like ``name`` (case and underscores ignored: ``vthresh`` ~ ``vth``)."""
    import difflib

    def plain(text: str) -> str:
        return text.replace("_", "").lower()

    by_plain = {plain(f): f for f in fields}
    wanted = plain(str(name))
    found = difflib.get_close_matches(wanted, list(by_plain), n=3, cutoff=0.55)
    if not found:
        return []
    best = difflib.SequenceMatcher(None, wanted, found[0]).ratio()
    # only the near-best: 'tau_m' is tau_mem, not also tau_syn
    return [by_plain[m] for m in found
            if difflib.SequenceMatcher(None, wanted, m).ratio() >= best - 0.1]


def _label(model: type[BaseModel]) -> str:
    """How a message names a model: its ``kind`` (``lif``) or its class name."""
    kind = model.model_fields.get("kind")
    default = getattr(kind, "default", None)
    return default if isinstance(default, str) else model.__name__.lower()


def parameter_error(exc: ValidationError, model: type[BaseModel]) -> ParameterError:
    """The first problem of ``exc`` (an unknown field before a missing one: usually the same
    typo) as a ParameterError; never pydantic's multi-line text or its links."""
    from .io import _message  # lazy: io imports this module

    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    field = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
    name, label = model.__name__, _label(model)
    fields = [f for f in model.model_fields if f != "kind"]
    if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
        unknown = str(error["loc"][0])
        matches = close_matches(unknown, fields)
        listed = f"(expected one of: {', '.join(model.model_fields)})"
        if matches:
            guesses = " or ".join(matches)
            code = " or ".join(f"{name}({m}=...)" for m in matches)
            return ParameterError(f"unknown field '{unknown}' for {name}: did you mean {code}? "
                                  f"{listed}", field=field,
                                  file_message=f"unknown field '{unknown}' for {label}: did you "
                                               f"mean {guesses}? {listed}")
        return ParameterError(f"unknown field '{unknown}' for {name} {listed}", field=field,
                              file_message=f"unknown field '{unknown}' for {label} {listed}")
    what = _message(error, model)
    if len(error["loc"]) > 1 and str(error["loc"][0]) in model.model_fields:
        # a union (a parameter value: number, array, distribution): every branch failed; name
        # the field, not pydantic's branch ("tau_mem.int")
        field = str(error["loc"][0])
        annotation = str(model.model_fields[field].annotation)
        if "Normal" in annotation:
            what = (f"expected a number, a list or array, Normal or Uniform, got "
                    f"{error.get('input')!r}")
    if error["type"] == "missing" and len(error["loc"]) == 1:
        needed = [f for f, info in model.model_fields.items() if info.is_required()]
        return ParameterError(f"{name}: required field '{field}' missing (required: "
                              f"{', '.join(needed)})", field=field, file_message=what)
    return ParameterError(f"{name}({field}=...): {what}" if field else f"{name}: {what}",
                          field=field, file_message=what)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, /, **data: Any) -> None:
        # keyword construction (the Python builder, ir.io.build) fails as one line, not as
        # pydantic's report with links; model_validate (nested fields) is unchanged
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise parameter_error(exc, type(self)) from None


class Normal(_Frozen):
    """Normal distribution ``normal: [mean, std]`` with its own ``seed``."""

    normal: tuple[float, float]
    seed: Seed = 0

    @model_validator(mode="after")
    def _check(self) -> "Normal":
        mean, std = self.normal
        if not (np.isfinite(mean) and np.isfinite(std)):
            raise ValueError(f"normal needs finite [mean, std], got [{mean:g}, {std:g}]")
        if std < 0:
            raise ValueError(f"normal std must be >= 0, got {std:g}")
        return self

    def draw(self, count: int) -> np.ndarray:
        mean, std = self.normal
        if std < 0:
            raise ValueError(f"normal std must be >= 0, got {std}")
        return np.random.default_rng(self.seed).normal(mean, std, size=count)


class Uniform(_Frozen):
    """Uniform distribution ``uniform: [lo, hi]`` with its own ``seed``.

    For integer quantities (delays) the draw is over the integers ``lo..hi`` inclusive.
    """

    uniform: tuple[float, float]
    seed: Seed = 0

    @model_validator(mode="after")
    def _check(self) -> "Uniform":
        lo, hi = self.uniform
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"uniform needs finite [lo, hi], got [{lo:g}, {hi:g}]")
        if hi < lo:
            raise ValueError(f"uniform needs lo <= hi, got [{lo:g}, {hi:g}]")
        return self

    def integer_bounds(self) -> tuple[int, int]:
        """The integers ``ceil(lo)..floor(hi)`` an integer draw (a delay) takes."""
        return int(np.ceil(self.uniform[0])), int(np.floor(self.uniform[1]))

    def draw(self, count: int, *, integer: bool = False) -> np.ndarray:
        lo, hi = self.uniform
        if hi < lo:
            raise ValueError(f"uniform needs lo <= hi, got [{lo}, {hi}]")
        rng = np.random.default_rng(self.seed)
        if integer:
            low, high = self.integer_bounds()
            if high < low:
                raise ValueError(f"uniform{list(self.uniform)} holds no integer")
            return rng.integers(low, high + 1, size=count, dtype=np.int64)
        return rng.uniform(lo, hi, size=count)

def _value(value: Any, validate_union: Any) -> Any:
    """Arrays are taken as they are; the union is only tried for scalars and distributions
    (pydantic would otherwise try ``int(array)`` and ``float(array)`` on every array first).

    Every number must be finite: NaN and infinity are refused here, for every parameter, weight
    and delay (no field of the IR means anything with them)."""
    value = _coerce_array(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise ValueError(f"expected numbers, got an array of dtype {value.dtype}")
        if value.dtype.kind == "f" and value.size and not np.all(np.isfinite(value)):
            bad = int(np.argmin(np.isfinite(value)))
            raise ValueError(f"must be finite, got {value[bad]} (element {bad})")
        return value
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return validate_union(value)


Value = Annotated[Union[int, float, Array, Normal, Uniform], WrapValidator(_value)]
"""A scalar, a per-item array, or a seeded distribution."""


def _value_or_inf(value: Any, validate_union: Any) -> Any:
    """``_value`` that also admits ``+inf`` (a time constant without decay: ``tau_mem: .inf``)."""
    array = _coerce_array(value)
    if isinstance(array, np.ndarray) and array.dtype.kind == "f" and np.any(array == np.inf):
        finite = np.where(array == np.inf, 1.0, array)
        _value(finite, validate_union)
        return array
    if isinstance(value, float) and value == np.inf:
        return value
    return _value(value, validate_union)


ValueOrInf = Annotated[Union[int, float, Array, Normal, Uniform], WrapValidator(_value_or_inf)]
"""A ``Value`` that may be ``+inf`` (range-check it with ``posinf=True``)."""


def is_integral(value: Value) -> bool:
    """True if a scalar or array holds only whole numbers (distributions: only integer uniforms)."""
    if isinstance(value, (Normal,)):
        return False
    if isinstance(value, Uniform):
        return True
    array = np.asarray(value)
    if array.dtype.kind in "iub":
        return True
    return bool(np.all(np.isfinite(array)) and np.all(array == np.round(array)))


def resolve(value: Value, count: int, *, integer: bool = False, dtype: Any = None) -> np.ndarray:
    """Expand a value to an array of ``count`` items (a scalar is broadcast without copying).

    ``integer=True`` draws distributions over integers (normal draws are rounded to nearest).
    """
    if isinstance(value, Uniform):
        out = value.draw(count, integer=integer)
    elif isinstance(value, Normal):
        out = value.draw(count)
        if integer:
            out = np.rint(out).astype(np.int64)
    elif isinstance(value, np.ndarray):
        if value.shape != (count,):
            raise ValueError(f"array has {value.shape[0]} values, expected {count}")
        out = value
    else:
        kind = np.int64 if integer or isinstance(value, int) else np.float64
        out = np.broadcast_to(np.asarray(value, dtype=kind), (count,))
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    return out


def bounds(value: Value) -> tuple[float, float] | None:
    """Smallest and largest element of a scalar or array; None for distributions or empty arrays."""
    if isinstance(value, (Normal, Uniform)):
        return None
    array = np.asarray(value)
    if array.size == 0:
        return None
    return float(array.min()), float(array.max())


def describe(value: Value) -> str:
    """A short human description, used in error messages and `snnc info`."""
    if isinstance(value, np.ndarray):
        lim = bounds(value)
        return f"array[{value.size}]" + (f" in [{lim[0]:g}, {lim[1]:g}]" if lim else "")
    if isinstance(value, Normal):
        return f"normal{list(value.normal)} seed {value.seed}"
    if isinstance(value, Uniform):
        return f"uniform{list(value.uniform)} seed {value.seed}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_range(
    value: Value,
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    integer: bool = False,
    posinf: bool = False,
) -> Value:
    """Validate every element of a scalar/array against bounds; raise ValueError naming the bad value.

    Distributions are checked after drawing (at expansion), not here. ``posinf`` admits ``+inf``
    (``tau_mem: .inf``: no leak).
    """
    if isinstance(value, (Normal, Uniform)):
        return value
    array = np.asarray(value)
    allowed = np.isfinite(array) | (posinf & (array == np.inf)) if array.dtype.kind == "f" else True
    if array.dtype.kind not in "iuf" or not np.all(allowed):
        raise ValueError(f"expected finite numbers, got {describe(value)}")
    if integer and not is_integral(value):
        bad = array[array != np.round(array)] if array.ndim else array
        raise ValueError(f"must be an integer, got {np.ravel(bad)[0]:g}")
    checks = [
        (gt, lambda a, b: a > b, ">"),
        (ge, lambda a, b: a >= b, ">="),
        (le, lambda a, b: a <= b, "<="),
    ]
    for limit, ok, symbol in checks:
        if limit is None:
            continue
        good = ok(array, limit)
        if not np.all(good):
            bad = np.ravel(array)[~np.ravel(good)][0]
            where = "" if array.ndim == 0 else f" (element {int(np.argmin(np.ravel(good)))})"
            raise ValueError(f"must be {symbol} {limit:g}, got {bad:g}{where}")
    return value


@dataclass(frozen=True)
class Limits:
    """The range of a ``RangeChecked`` field, kept in its metadata so that drawn values (a
    distribution's draws, known only with the population size) are checked against it too."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    integer: bool = False
    posinf: bool = False  # +inf admitted (tau_mem: .inf)

    def check(self, value: Value) -> Value:
        return check_range(value, gt=self.gt, ge=self.ge, le=self.le, integer=self.integer,
                           posinf=self.posinf)

    def check_distribution(self, value: "Normal | Uniform") -> None:
        """What is known without drawing: a uniform's bounds; a normal of std 0 is its mean."""
        if isinstance(value, Uniform):
            for end in value.uniform:
                try:
                    check_range(end, gt=self.gt, ge=self.ge, le=self.le)
                except ValueError as error:
                    raise ValueError(f"{describe(value)} can draw outside the range: "
                                     f"{error}") from None
        elif value.normal[1] == 0:
            check_range(value.normal[0], gt=self.gt, ge=self.ge, le=self.le)


def limits_of(model: type[BaseModel], field: str) -> "Limits | None":
    """The ``Limits`` of a model's range-checked field (None for an unchecked one)."""
    for item in model.model_fields[field].metadata:
        if isinstance(item, Limits):
            return item
    return None


def RangeChecked(**limits: Any) -> Any:
    """A ``Value`` type annotated with an element-wise range check, for pydantic fields."""
    from pydantic import AfterValidator

    spec = Limits(**limits)

    def check(value: Value) -> Value:
        if isinstance(value, (Normal, Uniform)):
            spec.check_distribution(value)
            return value
        return spec.check(value)

    return Annotated[ValueOrInf if spec.posinf else Value, AfterValidator(check), spec]


def check_drawn(value: Value, limits: "Limits", count: int) -> None:
    """Draw a distribution as ``resolve`` does for ``count`` items and range-check the draws
    (raises ValueError naming the first bad value). Scalars and arrays were checked on loading."""
    if not isinstance(value, (Normal, Uniform)) or count == 0:
        return
    drawn = resolve(value, count, integer=False)
    bad = None
    for limit, ok, symbol in ((limits.gt, np.greater, ">"), (limits.ge, np.greater_equal, ">="),
                              (limits.le, np.less_equal, "<=")):
        if limit is not None:
            good = ok(drawn, limit)
            if not good.all():
                bad = (symbol, limit, int(np.argmin(good)))
                break
    if bad is not None:
        symbol, limit, index = bad
        raise ValueError(f"drawn value {drawn[index]:g} (neuron {index}) is not {symbol} "
                         f"{limit:g}: {describe(value)} can draw outside the range")

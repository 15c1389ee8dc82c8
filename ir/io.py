"""Network files: YAML (format 1, DESIGN.md §4) with NPZ files beside it for big arrays.

``load(path)`` parses and validates a network and reports the first problem as one line
``FILE: WHERE: WHAT`` where WHERE is the YAML path (``populations.hid.neuron.tau_mem``).
``save(net, path)`` writes the YAML and, if the network holds arrays, ``<stem>.npz`` beside it;
``load(save(net))`` equals ``net`` (see ``equal``). Both files are written atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from .connect import CONNECTOR_KINDS
from .errors import NetworkError, SnncError
from .network import FORMAT_VERSION, Network, Population, Projection
from .neurons import NEURON_KINDS
from .sources import SOURCE_KINDS
from .values import Normal, Uniform
from .verify import verify

TOP_LEVEL_KEYS = ("snnc", "name", "dt", "populations", "projections", "metadata")
INLINE_ARRAY_MAX = 16  # arrays up to this length are written inline in the YAML, longer ones to NPZ
VALUE_HELP = "a number, a list, {file, key}, {normal: [mean, std], seed} or {uniform: [lo, hi], seed}"


# ---- pydantic errors as one-line messages ---------------------------------------------------------
def _message(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    shown = repr(value) if isinstance(value, str) else value
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        return f"unknown field (expected one of: {', '.join(model.model_fields)})"
    comparisons = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                   "less_than_equal": "<="}
    if kind in comparisons:
        limit = next(iter(ctx.values()))
        return f"must be {comparisons[kind]} {limit:g}, got {shown}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {shown}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {shown}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {shown}"
    if kind == "string_type":
        return f"expected a string, got {shown}"
    if kind == "dict_type":
        return f"expected a mapping, got {shown}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {shown}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {shown}"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def build(model: type[BaseModel], fields: dict[str, Any], where: str) -> Any:
    """Validate ``fields`` into ``model``; a failure becomes a NetworkError at the field's YAML path."""
    try:
        return model(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
        full = ".".join(part for part in (where, path) if part)
        raise NetworkError(_message(error, model), where=full) from None
    except TypeError as exc:  # e.g. a non-string key
        raise NetworkError(str(exc), where=where) from None


# ---- reading --------------------------------------------------------------------------------------
class _Arrays:
    """NPZ files referenced by a YAML file, opened once each, paths relative to the YAML."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.open: dict[str, Any] = {}

    def get(self, file: Any, key: Any, where: str) -> np.ndarray:
        if not isinstance(file, str) or not isinstance(key, str):
            raise NetworkError("'file' and the key must be strings", where=where)
        if file not in self.open:
            path = self.base / file
            if not path.is_file():
                raise NetworkError(f"array file '{file}' not found (in {self.base})", where=where)
            try:
                opened = np.load(path, allow_pickle=False)
            except Exception:  # numpy raises several types for files that are not NPZ archives
                opened = None
            if not isinstance(opened, np.lib.npyio.NpzFile):
                raise NetworkError(f"cannot read array file '{file}': not a NumPy .npz archive",
                                   where=where)
            self.open[file] = opened
        arrays = self.open[file]
        if key not in arrays.files:
            raise NetworkError(f"key '{key}' not in '{file}' (keys: {', '.join(arrays.files)})",
                               where=where)
        try:
            array = arrays[key]
        except Exception as exc:  # object arrays (pickles), corrupt members
            raise NetworkError(f"cannot read '{file}:{key}': {exc}", where=where) from None
        if array.dtype.kind not in "iuf":
            raise NetworkError(f"'{file}:{key}' must hold integers or floats, got dtype "
                               f"{array.dtype}", where=where)
        if array.ndim != 1:
            raise NetworkError(f"'{file}:{key}' must be 1-D, got shape {array.shape}", where=where)
        return array


def _value(raw: Any, arrays: _Arrays, where: str) -> Any:
    """Turn a YAML value (number, list, {file,key}, distribution) into an IR value."""
    if isinstance(raw, bool) or raw is None:
        raise NetworkError(f"expected {VALUE_HELP}, got {raw!r}", where=where)
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, list):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
            raise NetworkError("a list must hold only numbers", where=where)
        return np.asarray(raw)
    if isinstance(raw, dict):
        if "file" in raw:
            extra = set(raw) - {"file", "key"}
            if extra or "key" not in raw:
                raise NetworkError("an array reference is {file: NAME.npz, key: KEY}", where=where)
            return arrays.get(raw["file"], raw["key"], where)
        for key, model, pair in (("normal", Normal, "[mean, std]"),
                                 ("uniform", Uniform, "[lo, hi]")):
            if key in raw:
                bounds = raw[key]
                if not (isinstance(bounds, list) and len(bounds) == 2 and all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds)):
                    raise NetworkError(f"expected {key}: {pair} (two numbers), got {bounds!r}",
                                       where=f"{where}.{key}")
                return build(model, raw, where)
    raise NetworkError(f"expected {VALUE_HELP}, got {raw!r}", where=where)


def _is_value_field(model: type[BaseModel], name: str) -> bool:
    annotation = str(model.model_fields[name].annotation)
    return "Normal" in annotation and "Uniform" in annotation


def _tagged(raw: Any, kinds: dict[str, type[BaseModel]], what: str, where: str) -> tuple[type, dict]:
    """The model class named by ``kind`` and the remaining fields of a tagged mapping."""
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict):
        raise NetworkError(f"expected a mapping with 'kind', got {raw!r}", where=where)
    kind = raw.get("kind")
    if kind not in kinds:
        shown = "missing" if kind is None else f"'{kind}'"
        raise NetworkError(f"{what} kind {shown}; expected one of: {', '.join(kinds)}",
                           where=f"{where}.kind")
    return kinds[kind], dict(raw)


def _model_with_values(raw: Any, kinds: dict, what: str, arrays: _Arrays, where: str) -> Any:
    model, fields = _tagged(raw, kinds, what, where)
    for name in list(fields):
        if name in model.model_fields and _is_value_field(model, name):
            fields[name] = _value(fields[name], arrays, f"{where}.{name}")
    return build(model, fields, where)


def _array_fields(raw: dict, names: tuple[str, str], arrays: _Arrays, where: str) -> dict:
    """Resolve the two array fields of spike_times/explicit: inline lists or keys into ``file``."""
    fields = dict(raw)
    file = fields.pop("file", None)
    for name in names:
        if name not in fields:
            continue
        if file is not None:
            fields[name] = arrays.get(file, fields[name], f"{where}.{name}")
        elif isinstance(fields[name], list):
            fields[name] = _value(fields[name], arrays, f"{where}.{name}")
        else:
            raise NetworkError("expected a list of integers, or a key with 'file' set",
                               where=f"{where}.{name}")
    return fields


def _source(raw: Any, arrays: _Arrays, where: str) -> Any:
    model, fields = _tagged(raw, SOURCE_KINDS, "source", where)
    if fields["kind"] == "spike_times":
        return build(model, _array_fields(fields, ("times", "ids"), arrays, where), where)
    return _model_with_values(fields, SOURCE_KINDS, "source", arrays, where)


def _connect(raw: Any, arrays: _Arrays, where: str) -> Any:
    model, fields = _tagged(raw, CONNECTOR_KINDS, "connect", where)
    if fields["kind"] == "explicit":
        fields = _array_fields(fields, ("pre", "post"), arrays, where)
    return build(model, fields, where)


def _population(name: Any, raw: Any, arrays: _Arrays) -> Population:
    where = f"populations.{name}"
    if not isinstance(raw, dict):
        raise NetworkError(f"expected a mapping with 'size' and 'neuron' or 'source', got {raw!r}",
                           where=where)
    fields = dict(raw)
    if "neuron" in fields:
        fields["neuron"] = _model_with_values(fields["neuron"], NEURON_KINDS, "neuron", arrays,
                                              f"{where}.neuron")
    if "source" in fields:
        fields["source"] = _source(fields["source"], arrays, f"{where}.source")
    return build(Population, {"name": str(name), **fields}, where)


def _projection(index: int, raw: Any, arrays: _Arrays) -> Projection:
    where = f"projections[{index}]"
    if not isinstance(raw, dict):
        raise NetworkError(f"expected a mapping with from, to, connect, weight, got {raw!r}",
                           where=where)
    fields = dict(raw)
    for yaml_key, field in (("from", "pre"), ("to", "post")):
        if yaml_key not in fields:
            raise NetworkError("required field missing", where=f"{where}.{yaml_key}")
        name = fields.pop(yaml_key)
        if isinstance(name, bool) or not isinstance(name, (str, int)):
            raise NetworkError(f"expected a population name, got {name!r}",
                               where=f"{where}.{yaml_key}")
        fields[field] = str(name)
    fields.setdefault("name", _DEFAULT_NAME)
    fields["connect"] = _connect(fields.get("connect", "all_to_all"), arrays, f"{where}.connect")
    if "weight" not in fields:
        raise NetworkError("required field missing", where=f"{where}.weight")
    for key in ("weight", "delay"):
        if key in fields:
            fields[key] = _value(fields[key], arrays, f"{where}.{key}")
    return build(Projection, fields, where)


_DEFAULT_NAME = "\0unnamed"  # placeholder until every explicit name is known


def _unique_names(projections: list[Projection]) -> list[Projection]:
    """Unnamed projections are called ``pre->post`` (``#2``, ``#3``... when that name is taken);
    duplicate explicit names are left for ``verify`` to report."""
    taken = {p.name for p in projections if p.name != _DEFAULT_NAME}
    named = []
    for projection in projections:
        if projection.name == _DEFAULT_NAME:
            base = name = f"{projection.pre}->{projection.post}"
            count = 1
            while name in taken:
                count += 1
                name = f"{base}#{count}"
            taken.add(name)
            projection = projection.model_copy(update={"name": name})
        named.append(projection)
    return named


def parse(document: Any, base: Path) -> Network:
    """Build a network from a parsed YAML document (errors without the file name)."""
    if not isinstance(document, dict):
        raise NetworkError("the file must be a YAML mapping with populations and projections")
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            raise NetworkError(f"unknown field (expected one of: {', '.join(TOP_LEVEL_KEYS)})",
                               where=str(key))
    version = document.get("snnc", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise NetworkError(f"unsupported format version {version!r} (this snnc reads 1)", where="snnc")
    arrays = _Arrays(base)
    populations_raw = document.get("populations") or {}
    projections_raw = document.get("projections") or []
    if not isinstance(populations_raw, dict):
        raise NetworkError("expected a mapping of name: population", where="populations")
    if not isinstance(projections_raw, list):
        raise NetworkError("expected a list of projections", where="projections")
    populations = {str(n): _population(n, raw, arrays) for n, raw in populations_raw.items()}
    projections = _unique_names([_projection(i, raw, arrays) for i, raw in enumerate(projections_raw)])
    fields = {k: document[k] for k in ("name", "dt", "metadata") if k in document}
    fields.setdefault("name", "network")
    net = build(Network, {**fields, "populations": populations, "projections": projections}, "")
    verify(net)
    return net


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping names the same key twice (PyYAML would silently keep the last one)."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys: a second ``hid:`` under ``populations``
    is a mistake to report, not a population to drop."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # unhashable: PyYAML reports it itself
                    continue
                if duplicate:
                    raise _DuplicateKey(problem=f"duplicate key {key!r}",
                                        problem_mark=key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> Any:
    """Parse YAML text as snnc does (safe, duplicate keys refused)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def load(path: str | os.PathLike) -> Network:
    """Load and validate a network YAML file; errors name the file and the YAML path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NetworkError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise NetworkError(f"not a text file (not UTF-8 at byte {exc.start})",
                           file=str(path)) from None
    try:
        document = read_yaml(text)
    except _DuplicateKey as exc:
        raise NetworkError(exc.problem, where=f"line {exc.problem_mark.line + 1}",
                           file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NetworkError(f"YAML syntax error: {problem}", where=where, file=str(path)) from None
    try:
        return parse(document, path.parent)
    except SnncError as error:
        raise error.located(file=str(path)) from None


# ---- writing --------------------------------------------------------------------------------------
class _ArrayWriter:
    """Collects arrays for the NPZ beside the YAML; small ones stay inline."""

    def __init__(self, npz_name: str) -> None:
        self.npz_name = npz_name
        self.arrays: dict[str, np.ndarray] = {}

    def value(self, value: Any, key: str) -> Any:
        if isinstance(value, np.ndarray):
            if value.size <= INLINE_ARRAY_MAX:
                return value.tolist()
            self.arrays[key] = value
            return {"file": self.npz_name, "key": key}
        if isinstance(value, (Normal, Uniform)):
            return value.model_dump(mode="python") | (
                {"normal": list(value.normal)} if isinstance(value, Normal)
                else {"uniform": list(value.uniform)})
        if isinstance(value, (np.generic,)):
            return value.item()
        return value

    def key_arrays(self, fields: dict, names: tuple[str, str], key: str) -> dict:
        """spike_times/explicit arrays: inline when small, else keys into the one NPZ."""
        if all(fields[n].size <= INLINE_ARRAY_MAX for n in names):
            return fields | {n: fields[n].tolist() for n in names}
        for name in names:
            self.arrays[f"{key}.{name}"] = fields[name]
        return fields | {"file": self.npz_name} | {n: f"{key}.{n}" for n in names}


def _dump_model(model: BaseModel, writer: _ArrayWriter, key: str,
                array_pair: tuple[str, str] | None = None) -> dict:
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    if array_pair:
        return writer.key_arrays(fields, array_pair, key)
    return {name: writer.value(value, f"{key}.{name}") for name, value in fields.items()}


def to_document(net: Network, npz_name: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The YAML document of a network and the arrays that go to its NPZ."""
    writer = _ArrayWriter(npz_name)
    populations: dict[str, Any] = {}
    for name, population in net.populations.items():
        entry: dict[str, Any] = {"size": population.size}
        if population.neuron is not None:
            entry["neuron"] = _dump_model(population.neuron, writer, f"{name}.neuron")
        else:
            pair = ("times", "ids") if population.source.kind == "spike_times" else None
            entry["source"] = _dump_model(population.source, writer, f"{name}.source", pair)
        populations[name] = entry
    projections = []
    for index, projection in enumerate(net.projections):
        key = f"projections.{index}"
        pair = ("pre", "post") if projection.connect.kind == "explicit" else None
        projections.append({
            "name": projection.name, "from": projection.pre, "to": projection.post,
            "connect": _dump_model(projection.connect, writer, f"{key}.connect", pair),
            "weight": writer.value(projection.weight, f"{key}.weight"),
            "delay": writer.value(projection.delay, f"{key}.delay"),
            "weight_exp": projection.weight_exp, "num_weight_bits": projection.num_weight_bits,
        })
    document = {"snnc": FORMAT_VERSION, "name": net.name, "dt": net.dt,
                "populations": populations, "projections": projections}
    if net.metadata:
        document["metadata"] = net.metadata
    return document, writer.arrays


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "w") -> None:
    """Write a file through ``write(handle)`` into a temporary file, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would (0666 & ~umask)
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(net: Network, path: str | os.PathLike) -> None:
    """Write ``net`` as YAML at ``path`` plus ``<stem>.npz`` for its large arrays."""
    path = Path(path)
    npz_name = f"{path.stem}.npz"
    document, arrays = to_document(net, npz_name)
    if arrays:
        atomic_write(path.parent / npz_name, lambda h: np.savez(h, **arrays), mode="wb")
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=100)
    atomic_write(path, lambda h: h.write(text))


# ---- equality -------------------------------------------------------------------------------------
def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, BaseModel):
        return type(a) is type(b) and all(
            _equal(getattr(a, f), getattr(b, f)) for f in type(a).model_fields)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(_equal(x, y) for x, y in zip(a, b)))
    return bool(a == b)


def equal(a: Network, b: Network) -> bool:
    """Structural equality of two networks (arrays compared by value)."""
    return _equal(a, b)

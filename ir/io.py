"""Network files: YAML (format 1, docs/describe-a-network.md) with NPZ files beside it for big
arrays.

``load(path)`` parses and validates a network and reports the first problem as one line
``FILE: WHERE: WHAT`` where WHERE is the YAML path (``populations.hid.neuron.tau_mem``).
``save(net, path)`` writes the YAML and, if the network holds arrays, ``<stem>.npz`` beside it;
``load(save(net))`` equals ``net`` (see ``equal``). Both files are written atomically.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from .connect import CONNECTOR_KINDS
from .errors import NetworkError, SnncError
from .network import FORMAT_VERSION, Network, Population, Projection
from .neurons import NEURON_KINDS
from .outputs import Outputs, write_files
from .sources import SOURCE_KINDS
from .values import Normal, ParameterError, Uniform
from .verify import verify

TOP_LEVEL_KEYS = ("snnc", "name", "dt", "populations", "projections", "metadata")
MAX_YAML_BYTES = 64 * 2**20  # a network YAML; arrays belong in NPZ files
INLINE_ARRAY_MAX = 16  # arrays up to this length are written inline in the YAML, longer ones to NPZ
VALUE_HELP = "a number, a list, {file, key}, {normal: [mean, std], seed} or {uniform: [lo, hi], seed}"


# ---- pydantic errors as one-line messages ---------------------------------------------------------
def _message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
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
        limit = limit if isinstance(limit, int) else f"{limit:g}"
        return f"must be {comparisons[kind]} {limit}, got {shown}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {shown}"
    if kind == "finite_number":
        return f"must be a finite number, got {shown}"
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
    except ParameterError as exc:  # snnc's own models (values._Frozen): with close matches
        full = ".".join(part for part in (where, exc.field) if part)
        raise NetworkError(exc.file_message, where=full) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"] if not isinstance(p, int))
        full = ".".join(part for part in (where, path) if part)
        raise NetworkError(_message(error, model), where=full) from None
    except TypeError as exc:  # e.g. a non-string key
        raise NetworkError(str(exc), where=where) from None


# ---- reading --------------------------------------------------------------------------------------
class _Arrays:
    """NPZ files referenced by a YAML file, opened once each, paths relative to the YAML.

    A file must lie in the YAML's folder (or below) unless ``allow_outside``; a member's shape
    and dtype are read from its header and checked before its data is read."""

    def __init__(self, base: Path, allow_outside: bool = False) -> None:
        self.base = base
        self.allow_outside = allow_outside
        self.open: dict[str, Any] = {}

    def _path(self, file: str, where: str) -> Path:
        path = self.base / file
        if not self.allow_outside:
            root = self.base.resolve()
            try:
                inside = path.resolve().is_relative_to(root)
            except (OSError, RuntimeError):
                inside = False
            if not inside:
                raise NetworkError(f"array file '{file}' is outside the network's folder "
                                   f"({self.base}); run 'snnc --allow-outside-paths ...' to "
                                   "allow it", where=where)
        return path

    def get(self, file: Any, key: Any, where: str) -> np.ndarray:
        if not isinstance(file, str) or not isinstance(key, str):
            raise NetworkError("'file' and the key must be strings", where=where)
        if file not in self.open:
            path = self._path(file, where)
            if not path.is_file():
                raise NetworkError(f"array file '{file}' not found (in {self.base})", where=where)
            self.open[file] = open_npz(path, f"array file '{file}'", where)
        arrays = self.open[file]
        if key not in arrays.files:
            raise NetworkError(f"key '{key}' not in '{file}' (keys: {', '.join(arrays.files)})",
                               where=where)
        return read_member(arrays, key, f"'{file}:{key}'", where, kinds="iuf", ndim=1)


def open_npz(path: Path, what: str, where: str, file: str = "") -> Any:
    """An NPZ archive opened without pickles; anything else is a one-line NetworkError."""
    try:
        opened = np.load(path, allow_pickle=False)
    except Exception:  # numpy raises several types for files that are not NPZ archives
        opened = None
    if not isinstance(opened, np.lib.npyio.NpzFile):
        raise NetworkError(f"cannot read {what}: not a NumPy .npz archive", where=where,
                           file=file)
    return opened


def member_header(arrays: Any, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of an NPZ member, from its header alone (nothing else is read)."""
    with arrays.zip.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    return tuple(int(n) for n in shape), dtype


def read_member(arrays: Any, key: str, what: str, where: str, *, kinds: str, ndim: int | None,
                file: str = "") -> np.ndarray:
    """One NPZ member, its header checked first (dtype kinds, dimensions, size in memory)."""
    from .resources import check_bytes

    try:
        shape, dtype = member_header(arrays, key)
    except Exception as exc:  # a corrupt member or header: zipfile, ValueError, EOFError...
        reason = _one_line(exc)
        raise NetworkError(f"cannot read {what}: {reason}", where=where, file=file) from None
    if dtype.hasobject:
        raise NetworkError(f"cannot read {what}: Object arrays cannot be loaded when "
                           "allow_pickle=False", where=where, file=file)
    if dtype.kind not in kinds:
        wanted = "integers or floats" if kinds == "iuf" else "integers"
        raise NetworkError(f"{what} must hold {wanted}, got dtype {dtype}", where=where,
                           file=file)
    if ndim is not None and len(shape) != ndim:
        raise NetworkError(f"{what} must be {ndim}-D, got shape {shape}", where=where, file=file)
    check_bytes(float(np.prod(shape, dtype=np.float64)) * dtype.itemsize, f"{what} holds "
                f"{int(np.prod(shape, dtype=np.float64)):,} values", where, file)
    try:
        array = arrays[key]
    except Exception as exc:  # corrupt or truncated members
        raise NetworkError(f"cannot read {what}: {_one_line(exc)}", where=where,
                           file=file) from None
    return array


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _value(raw: Any, arrays: _Arrays, where: str) -> Any:
    """Turn a YAML value (number, list, {file,key}, distribution) into an IR value."""
    if isinstance(raw, bool) or raw is None:
        raise NetworkError(f"expected {VALUE_HELP}, got {raw!r}", where=where)
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, list):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
            raise NetworkError("a list must hold only numbers", where=where)
        array = np.asarray(raw)
        if array.dtype.kind not in "iuf":
            raise NetworkError("numbers must fit in 64 bits", where=where)
        return array
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


def _tagged(raw: Any, kinds: Mapping[str, type[BaseModel]], what: str,
            where: str) -> tuple[type[BaseModel], dict]:
    """The model class named by ``kind`` and the remaining fields of a tagged mapping."""
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict):
        raise NetworkError(f"expected a mapping with 'kind', got {raw!r}", where=where)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        shown = "missing" if kind is None else (f"'{kind}'" if isinstance(kind, str)
                                                 else f"must be a name, got {kind!r}")
        raise NetworkError(f"{what} kind {shown}; expected one of: {', '.join(kinds)}",
                           where=f"{where}.kind")
    return kinds[kind], dict(raw)


def _model_with_values(raw: Any, kinds: Mapping[str, type[BaseModel]], what: str, arrays: _Arrays,
                       where: str) -> Any:
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


def _check_name(name: Any, where: str) -> None:
    text = str(name)
    if not text.isprintable():
        raise NetworkError(f"a name must be printable (no newline, tab or control character), "
                           f"got {text!r}", where=where)


def parse(document: Any, base: Path, *, allow_outside_paths: bool = False) -> Network:
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
    arrays = _Arrays(base, allow_outside_paths)
    populations_raw = document.get("populations") or {}
    projections_raw = document.get("projections") or []
    if not isinstance(populations_raw, dict):
        raise NetworkError("expected a mapping of name: population", where="populations")
    if not isinstance(projections_raw, list):
        raise NetworkError("expected a list of projections", where="projections")
    for name in populations_raw:
        _check_name(name, f"populations.{name!r}")
    for index, raw in enumerate(projections_raw):
        if isinstance(raw, dict) and "name" in raw:
            _check_name(raw["name"], f"projections[{index}].name")
    if "name" in document:
        _check_name(document["name"], "name")
    populations = {str(n): _population(n, raw, arrays) for n, raw in populations_raw.items()}
    projections = _unique_names([_projection(i, raw, arrays) for i, raw in enumerate(projections_raw)])
    fields = {k: document[k] for k in ("name", "dt", "metadata") if k in document}
    fields.setdefault("name", "network")
    net = build(Network, {**fields, "populations": populations, "projections": projections}, "")
    verify(net)
    return net


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping names the same key twice (PyYAML would silently keep the last one)."""


class _TooLarge(yaml.MarkedYAMLError):
    """A document nested too deeply, or whose aliases expand to too many nodes."""


MAX_YAML_DEPTH = 64  # nesting of mappings and lists (a network needs 6)
MAX_YAML_NODES = 1_000_000  # nodes once aliases are expanded ("billion laughs")

_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
# YAML 1.2 core schema: 2e1 and 5e-1 are floats (YAML 1.1, PyYAML's default, wants a dot and a
# signed exponent), 017 is seventeen (1.1: octal), 1:30 and 1_000 are strings (1.1: 90, 1000).
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_FIRST = list("-+0123456789.")


def _key_text(key: Any) -> Any:
    """Keys as snnc uses them (population names are ``str(key)``): ``1`` and ``'1'`` collide."""
    if isinstance(key, (str, int, float, bool)) or key is None:
        return str(key)
    return key


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 numbers, duplicate keys refused (after normalising them
    to strings: ``1:`` and ``'1':`` are the same population), and a bound on nesting and on the
    size aliases expand to."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooLarge(problem=f"nested more than {MAX_YAML_DEPTH} levels deep",
                                problem_mark=self.peek_event().start_mark)
            node: Any = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:
            children = []
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            size = 1 + sum(self._sizes.get(id(child), 1) for child in children)
            if size > MAX_YAML_NODES:
                raise _TooLarge(problem=f"more than {MAX_YAML_NODES:,} values once aliases are "
                                "expanded", problem_mark=node.start_mark)
            self._sizes[id(node)] = size
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = _key_text(self.construct_object(key_node, deep=True))
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # unhashable: PyYAML reports it itself
                    continue
                if duplicate:
                    raise _DuplicateKey(problem=f"duplicate key {key!r}",
                                        problem_mark=key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits.replace("_", ""), 10)


def _yaml12(cls: type[yaml.resolver.BaseResolver]) -> None:
    """Replace YAML 1.1's int and float resolvers of ``cls`` by YAML 1.2's."""
    cls.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
        for first, resolvers in cls.yaml_implicit_resolvers.items()}
    cls.add_implicit_resolver(_INT_TAG, _INT_12, _FIRST)
    cls.add_implicit_resolver(_FLOAT_TAG, _FLOAT_12, _FIRST)


_yaml12(_Loader)
_Loader.add_constructor(_INT_TAG, _Loader.construct_yaml_int)


class _Dumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` that also quotes strings YAML 1.2 would read as numbers (``'2e1'``),
    so that what snnc writes reads back the same under 1.1 and 1.2."""


_Dumper.add_implicit_resolver(_INT_TAG, _INT_12, _FIRST)
_Dumper.add_implicit_resolver(_FLOAT_TAG, _FLOAT_12, _FIRST)


def dump_yaml(document: Any) -> str:
    """YAML text of a document as snnc writes network files."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                     width=100)


def read_yaml(text: str) -> Any:
    """Parse YAML text as snnc does (safe, YAML 1.2 numbers, duplicate keys refused)."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except RecursionError:
        raise _TooLarge(problem="nested too deeply") from None


def yaml_error(exc: yaml.YAMLError, file: str) -> NetworkError:
    """A PyYAML error as snnc's one-line error."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark else ""
    if isinstance(exc, (_DuplicateKey, _TooLarge)):
        return NetworkError(str(exc.problem), where=where, file=file)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["invalid"])[0]
    return NetworkError(f"YAML syntax error: {problem}", where=where, file=file)


def load(path: str | os.PathLike, *, allow_outside_paths: bool = False) -> Network:
    """Load and validate a network YAML file; errors name the file and the YAML path.

    Array files (``{file: X.npz, key: K}``) must lie in the YAML's folder or below it unless
    ``allow_outside_paths`` (``snnc --allow-outside-paths``)."""
    path = Path(path)
    if path.is_dir():
        raise NetworkError("is a directory, not a network file", file=str(path))
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_YAML_BYTES:
        raise NetworkError(f"{size:,} bytes is more than a network YAML may have "
                           f"({MAX_YAML_BYTES:,}); put large arrays in an NPZ file",
                           file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NetworkError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise NetworkError(f"not a text file (not UTF-8 at byte {exc.start})",
                           file=str(path)) from None
    try:
        document = read_yaml(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, str(path)) from None
    try:
        return parse(document, path.parent, allow_outside_paths=allow_outside_paths)
    except SnncError as error:
        raise error.located(file=str(path)) from None
    except RecursionError:
        raise NetworkError("nested too deeply", file=str(path)) from None


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
            source = population.source
            assert source is not None  # a population has a neuron or a source (Population checks)
            pair = ("times", "ids") if source.kind == "spike_times" else None
            entry["source"] = _dump_model(source, writer, f"{name}.source", pair)
        populations[name] = entry
    projections = []
    for index, projection in enumerate(net.projections):
        key = f"projections.{index}"
        pair = ("pre", "post") if projection.connect.kind == "explicit" else None
        entry = {
            "name": projection.name, "from": projection.pre, "to": projection.post,
            "connect": _dump_model(projection.connect, writer, f"{key}.connect", pair),
            "weight": writer.value(projection.weight, f"{key}.weight"),
            "delay": writer.value(projection.delay, f"{key}.delay"),
            "weight_exp": projection.weight_exp, "num_weight_bits": projection.num_weight_bits,
        }
        if projection.plasticity is not None:
            entry["plasticity"] = _dump_model(projection.plasticity, writer, f"{key}.plasticity")
        projections.append(entry)
    document = {"snnc": FORMAT_VERSION, "name": net.name, "dt": net.dt,
                "populations": populations, "projections": projections}
    if net.metadata:
        document["metadata"] = net.metadata
    return document, writer.arrays


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "w",
                 where: str = "--output") -> None:
    """Write a file through ``write(handle)``: staged in an anonymous temporary file, then renamed
    into place (``outputs.Outputs``); the path must be missing or a regular file."""
    write_files([(path, write, mode)], where=where)


def save(net: Network, path: str | os.PathLike, *, outputs: Outputs | None = None,
         where: str = "--output") -> None:
    """Write ``net`` as YAML at ``path`` plus ``<stem>.npz`` for its large arrays; both appear
    together. With ``outputs``, the files are staged there and appear at its commit."""
    path = Path(path)
    npz_name = f"{path.stem}.npz"
    document, arrays = to_document(net, npz_name)
    text = dump_yaml(document)
    files: list[tuple[str | os.PathLike, Callable[[Any], Any], str]] = [
        (path, lambda h: h.write(text), "w")]
    if arrays:
        files.insert(0, (path.parent / npz_name, lambda h: np.savez(h, **arrays), "wb"))
    if outputs is not None:
        for file in files:
            outputs.add(*file)
        return
    write_files(files, where=where)


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

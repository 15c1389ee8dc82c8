"""An HDF5 file (a NIR graph) is data: check it before any library reads it.

``check_hdf5(path)`` walks every group and dataset without resolving links and refuses, with one
line that names the object and the reason:

- external links (to another file) and soft links;
- datasets with external storage (raw bytes of another local file, e.g. /etc/passwd) or virtual
  datasets (mapped from other files);
- dtypes a NIR graph never holds (compound, references, opaque, enums...) and absurd shapes: more
  than ``MAX_NDIM`` dimensions, or more bytes than the memory limit (``snnc.ir.resources``), so a
  small compressed file cannot expand into gigabytes;
- more than ``MAX_OBJECTS`` objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import NetworkError, SnncError

MAX_NDIM = 8
MAX_OBJECTS = 100_000
_ALLOWED_KINDS = "biufcS"  # booleans, numbers, fixed-length byte strings; vlen strings separately


def _refuse(reason: str, name: str, path: str) -> NetworkError:
    return NetworkError(f"refused: {reason}", where=name or "/", file=path)


def _check_dataset(dataset: Any, name: str, path: str) -> None:
    import h5py

    from .resources import check_bytes

    if dataset.is_virtual:
        raise _refuse("a virtual dataset (its data would come from other files)", name, path)
    if dataset.external:
        files = ", ".join(sorted({str(entry[0]) for entry in dataset.external}))
        raise _refuse(f"a dataset with external storage (its bytes would be read from {files})",
                      name, path)
    dtype = dataset.dtype
    if not (dtype.kind in _ALLOWED_KINDS or h5py.check_string_dtype(dtype) is not None):
        raise _refuse(f"dtype {dtype} is not one a NIR graph holds (numbers or strings)",
                      name, path)
    shape = dataset.shape
    if shape is None:  # an empty (null) dataspace
        return
    if len(shape) > MAX_NDIM:
        raise _refuse(f"{len(shape)} dimensions (at most {MAX_NDIM})", name, path)
    count = float(np.prod([float(n) for n in shape])) if shape else 1.0
    check_bytes(count * max(dtype.itemsize, 1), f"dataset of shape {tuple(shape)}", name, path)


def check_hdf5(path: str | Path) -> None:
    """Raise a NetworkError when the HDF5 file at ``path`` is unsafe to read (module docstring)."""
    import h5py

    path = str(path)
    try:
        handle = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError, ValueError...
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise NetworkError(f"not a readable NIR file: {reason}", file=path) from None
    seen: set[tuple[int, int]] = set()
    count = 0
    try:
        with handle:
            stack: list[tuple[Any, str]] = [(handle, "")]
            while stack:
                group, prefix = stack.pop()
                for name in group:
                    full = f"{prefix}/{name}"
                    count += 1
                    if count > MAX_OBJECTS:
                        raise _refuse(f"more than {MAX_OBJECTS:,} objects", "", path)
                    link = group.get(name, getlink=True)
                    if isinstance(link, h5py.ExternalLink):
                        raise _refuse(f"an external link to {link.filename}:{link.path}", full,
                                      path)
                    if isinstance(link, h5py.SoftLink):
                        raise _refuse(f"a soft link to {link.path}", full, path)
                    item = group.get(name)
                    if item is None:
                        raise _refuse("a link that leads nowhere", full, path)
                    info = h5py.h5o.get_info(item.id)
                    key = (info.fileno, info.addr)
                    if key in seen:
                        raise _refuse("an object linked twice (a cycle or a shared node)", full,
                                      path)
                    seen.add(key)
                    if isinstance(item, h5py.Group):
                        stack.append((item, full))
                    elif isinstance(item, h5py.Dataset):
                        _check_dataset(item, full, path)
    except SnncError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt file fails in many ways
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise NetworkError(f"not a readable NIR file: {reason}", file=path) from None

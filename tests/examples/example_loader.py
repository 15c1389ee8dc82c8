"""Import an example's script (``examples/<name>/<module>.py``) as a module, for its tests."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str, module: str = "run") -> ModuleType:
    """The module ``examples/<name>/<module>.py`` (its folder goes on sys.path for its siblings)."""
    folder = EXAMPLES / name
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    qualified = f"example_{name}_{module}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, folder / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = loaded  # dataclasses look their module up while it executes
    spec.loader.exec_module(loaded)
    return loaded

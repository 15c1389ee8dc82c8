"""Project layout contracts: one namespace, no lava in the core, lava importable where tests run."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_MODULES = ["snnc", "snnc.ir", "snnc.models", "snnc.compiler", "snnc.backends", "snnc.cli"]


def test_core_never_imports_lava():
    code = ("import sys, importlib\n"
            f"for m in {CORE_MODULES!r}: importlib.import_module(m)\n"
            "import snnc.cli\n"
            "bad = [m for m in sys.modules if m == 'lava' or m.startswith('lava.')]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_package_folder_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    mapping = {"ir": "snnc.ir", "models": "snnc.models", "compiler": "snnc.compiler",
               "backends": "snnc.backends", "snnc": "snnc"}
    for folder, package in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            name = ".".join([package, *rel.parts]) if rel.parts else package
            assert f'"{name}"' in text, f"{name} missing from [tool.setuptools] packages"


def test_lava_is_installed_in_the_test_environment():
    # CI must fail, not skip, when lava is missing: the Lava backend's tests depend on it.
    import lava.magma.core.run_configs  # noqa: F401


FOLDERS = {"snnc": "snnc", "ir": "snnc.ir", "models": "snnc.models", "compiler": "snnc.compiler",
           "backends": "snnc.backends"}


def test_every_file_is_loaded_once_as_snnc():
    # From the repository root, where `python -c` puts the root first on sys.path: the worst case.
    code = ("import importlib, json, pkgutil, sys\n"
            "import snnc\n"
            "names = sorted({m.name for m in pkgutil.walk_packages(snnc.__path__, 'snnc.')})\n"
            "for name in names: importlib.import_module(name)\n"
            "print(json.dumps({n: getattr(m, '__file__', None) for n, m in sys.modules.items()}))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    modules = json.loads(run.stdout.splitlines()[-1])
    assert "snnc.backends.reference.engine" in modules and "snnc.cli" in modules
    bare = sorted(n for n in modules if n.split(".")[0] in FOLDERS and n.split(".")[0] != "snnc")
    assert not bare, f"top-level modules from the snnc folders: {bare}"
    names_of: dict[Path, list[str]] = {}
    for name, file in modules.items():
        path = Path(file).resolve() if file else None
        if path and path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in FOLDERS:
            names_of.setdefault(Path(file).resolve(), []).append(name)
    twice = {str(f.relative_to(ROOT)): n for f, n in names_of.items() if len(n) > 1}
    assert not twice, f"files loaded under two names: {twice}"


def test_the_folders_are_not_top_level_packages():
    code = ("import importlib\n"
            "for folder in ['ir', 'models', 'compiler', 'backends']:\n"
            "    try:\n"
            "        importlib.import_module(folder)\n"
            "    except ImportError as error:\n"
            "        print(error)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    for folder in ["ir", "models", "compiler", "backends"]:
        assert f"import snnc.{folder}, not {folder}\n" in run.stdout, run.stdout + run.stderr


def test_pytest_does_not_make_the_folders_packages():
    # make test runs .venv/bin/pytest (not `python -m pytest`, which puts the root on sys.path);
    # either way `import ir` never loads ir/ (its __init__ refuses any name but snnc.ir).
    import importlib

    for folder in ["ir", "models", "compiler", "backends"]:
        try:
            module = importlib.import_module(folder)
        except ImportError:
            continue
        assert getattr(module, "__file__", None) is None, module  # tests/ir/ etc.: namespaces


def test_installed_for_type_checkers():
    # strict editable install (the Makefile's): a link tree, with py.typed in every package root
    from importlib import resources

    import snnc.ir

    assert Path(snnc.ir.__file__).parent != ROOT / "ir", (
        "snnc is installed in setuptools' default editable mode, which type checkers cannot "
        "read: reinstall with `make venv` (editable_mode=strict)")
    for folder, package in FOLDERS.items():
        assert (ROOT / folder / "py.typed").is_file()
        assert resources.files(package).joinpath("py.typed").is_file(), package


def test_the_install_links_every_module():
    # a strict editable install links the files it saw: a module added since needs `make venv`
    import snnc.ir

    installed = Path(snnc.ir.__file__).parents[1]  # the installed snnc/ folder
    missing = [str(path.relative_to(ROOT)) for folder in FOLDERS
               for path in sorted((ROOT / folder).rglob("*.py"))
               if "__pycache__" not in path.parts and not (
                   installed / ("" if folder == "snnc" else folder)
                   / path.relative_to(ROOT / folder)).is_file()]
    assert not missing, f"not installed (run `make venv` to reinstall): {', '.join(missing)}"


def test_no_reference_to_documents_outside_the_repository():
    # the design notes and research notes live outside the repository: cite docs/, a module, or
    # an upstream file by project and path instead
    import re

    pattern = re.compile(r"\b(?:DESIGN|STYLE|interfaces|peers)\.md\b|\bresearch/\w+\.md\b")
    this = Path(__file__).resolve()
    found = [f"{path.relative_to(ROOT)}:{number}"
             for folder in [*FOLDERS, "tests", "benchmarks", "docs", "examples", "scripts"]
             for path in sorted((ROOT / folder).rglob("*"))
             if path.suffix in (".py", ".md", ".yaml", ".sh") and path.resolve() != this
             and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if pattern.search(line)]
    found += [name for name in ("README.md", "Makefile", "pyproject.toml")
              if pattern.search((ROOT / name).read_text())]
    assert not found, f"references to documents not in the repository: {', '.join(found)}"

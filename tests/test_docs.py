"""The docs hold together: the Python examples in docs/ run as written (each ```python block, in a
temporary directory), every relative link in the docs and READMEs points to an existing file, and
docs/cli.md has a section for every command of the CLI."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SESSION = "<!-- python blocks: one session -->"  # a page whose blocks continue one another


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


BLOCKS = [
    (page.name, index, code)
    for page in sorted(DOCS.glob("*.md")) if SESSION not in page.read_text()
    for index, code in enumerate(_python_blocks(page))
]
SESSIONS = [page for page in sorted(DOCS.glob("*.md")) if SESSION in page.read_text()]


@pytest.mark.parametrize("page,index,code", BLOCKS, ids=[f"{p}#{i}" for p, i, _ in BLOCKS])
def test_python_block_runs(tmp_path, monkeypatch, page, index, code):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{page}#{index}", "exec"), {"__name__": "__doc_example__"})
    assert os.getcwd() == str(tmp_path)


@pytest.mark.parametrize("page", SESSIONS, ids=[p.name for p in SESSIONS])
def test_python_session_runs(tmp_path, monkeypatch, page):
    """A walk-through page: its blocks run in order in one namespace, as a reader types them."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_example__"}
    blocks = _python_blocks(page)
    assert blocks, f"{page.name} is marked as a session but has no python block"
    for index, code in enumerate(blocks):
        exec(compile(code, f"{page.name}#{index}", "exec"), namespace)


PAGES = sorted([*DOCS.glob("*.md"), ROOT / "README.md", *ROOT.glob("examples/*/README.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # http:, https:, mailto:, ...


def relative_links(page: Path) -> list[str]:
    """Targets of the page's `[text](target)` links that are not external or same-page anchors
    (links inside code blocks and code spans are not links)."""
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text()))
    return [t for t in LINK.findall(text) if not EXTERNAL.match(t) and not t.startswith("#")]


def test_pages_have_links():
    assert any(relative_links(page) for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page):
    broken = [target for target in relative_links(page)
              if not (page.parent / target.split("#", 1)[0]).exists()]
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {', '.join(broken)}"


def test_cli_reference_covers_every_command():
    from snnc.cli import cli

    headings = [line for line in (DOCS / "cli.md").read_text().splitlines()
                if re.match(r"#{1,6} ", line)]
    missing = [name for name in sorted(cli.commands)
               if not any(re.search(rf"\bsnnc {re.escape(name)}(?![\w-])", h) for h in headings)]
    assert not missing, f"docs/cli.md has no section for: {', '.join(missing)}"

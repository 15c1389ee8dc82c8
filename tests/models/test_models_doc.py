"""docs/models.md's support matrix is the one the registry gives (regenerate it when this fails)."""

from pathlib import Path

from snnc.commands.support import support_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def test_support_table_in_docs_is_current():
    text = DOC.read_text()
    start = text.index("<!-- support-matrix:start -->\n") + len("<!-- support-matrix:start -->\n")
    end = text.index("<!-- support-matrix:end -->")
    assert text[start:end] == support_markdown(), (
        "docs/models.md is stale: regenerate the table between the support-matrix markers with "
        "snnc.commands.support.support_markdown()")


def test_cli_support_json_matches(tmp_path):
    import json

    from click.testing import CliRunner

    from snnc.cli import cli
    from snnc.models.support import support_matrix

    result = CliRunner().invoke(cli, ["targets", "--support", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(support_matrix()))

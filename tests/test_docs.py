"""README.md documents every setting and every command, exactly as the code describes them.

When one of these fails after a change to settings or to a command's help, regenerate the
sections with ``python -m shopkeeper.ops.docs`` and commit README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shopkeeper.ops import docs
from shopkeeper.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
REGENERATE = "README.md is out of date: run `python -m shopkeeper.ops.docs` and commit it"


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def section(readme: str, which: docs.Section) -> str:
    text = docs.section_text(readme, which)
    assert text is not None, f"README.md lacks the {which.start} ... {which.end} markers"
    return text


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented(readme: str, name: str) -> None:
    assert f"`SHOPKEEPER_{name.upper()}`" in section(readme, docs.SETTINGS_SECTION), REGENERATE


def test_settings_table_is_generated(readme: str) -> None:
    assert section(readme, docs.SETTINGS_SECTION) == docs.settings_table_markdown(), REGENERATE


def test_every_command_is_documented(readme: str) -> None:
    reference = section(readme, docs.CLI_SECTION)
    commands = [" ".join(("shopkeeper", *path)) for path in docs.cli_commands()]
    assert len(commands) > 5
    missing = [c for c in commands if f"### `{c}`" not in reference]
    assert not missing, f"{missing} undocumented; {REGENERATE}"


def test_cli_reference_is_generated(readme: str) -> None:
    assert section(readme, docs.CLI_SECTION) == docs.cli_reference_markdown(), REGENERATE


def test_generator_appends_missing_sections_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("# Shop\n\nProse stays.\n", encoding="utf-8")
    assert docs.main([str(path), "--check"]) == 1
    assert docs.main([str(path)]) == 0
    once = path.read_text(encoding="utf-8")
    assert once.startswith("# Shop\n\nProse stays.\n\n## Configuration\n")
    assert "`SHOPKEEPER_DATA_DIR`" in once
    assert "### `shopkeeper keys create`" in once
    assert docs.main([str(path), "--check"]) == 0
    assert docs.render(once) == once

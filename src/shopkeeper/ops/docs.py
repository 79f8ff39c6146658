"""README sections generated from the code: the settings table and the CLI reference.

The settings table comes from :class:`shopkeeper.settings.Settings` (name, default and the
``Field`` description); the CLI reference from each command's ``--help``. ``tests/test_docs.py``
fails when README.md differs from what this module generates, so documentation cannot drift
from the code. Regenerate in place with::

    python -m shopkeeper.ops.docs            # rewrite README.md
    python -m shopkeeper.ops.docs --check    # exit 1 if README.md is out of date
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from shopkeeper.settings import Settings

README = Path(__file__).resolve().parents[3] / "README.md"
ENV_PREFIX = "SHOPKEEPER_"
#: Width the CLI help is rendered at, so the reference is the same on every machine.
HELP_WIDTH = 88


@dataclass(frozen=True)
class Section:
    """A generated part of the README, between ``<!-- marker -->`` and ``<!-- /marker -->``."""

    marker: str
    title: str

    @property
    def start(self) -> str:
        return f"<!-- {self.marker} -->"

    @property
    def end(self) -> str:
        return f"<!-- /{self.marker} -->"


SETTINGS_SECTION = Section("settings-table", "Configuration")
CLI_SECTION = Section("cli-reference", "CLI reference")


def _format_default(value: Any) -> str:
    if value is None or value is PydanticUndefined:
        return "*(unset)*"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, tuple | list):
        text = json.dumps(list(value))
    else:
        text = str(value)
    return f"`{text}`".replace("|", "\\|")


def settings_table_markdown() -> str:
    """The configuration table: one row per setting, as its environment variable."""
    rows = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(
            f"| `{ENV_PREFIX}{name.upper()}` | {_format_default(field.default)} | {description} |"
        )
    return "\n".join(rows)


def cli_commands() -> Iterator[tuple[str, ...]]:
    """Every command path, groups included, by name: ``()``, ``("clv",)``..."""
    import typer

    from shopkeeper.cli import _load, app

    _load()

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


def cli_help(path: tuple[str, ...]) -> str:
    """``shopkeeper <path> --help`` as plain text at :data:`HELP_WIDTH` columns."""
    from typer.testing import CliRunner

    from shopkeeper.cli import app

    env: dict[str, str | None] = {
        "COLUMNS": str(HELP_WIDTH),
        "TERMINAL_WIDTH": str(HELP_WIDTH),
        "NO_COLOR": "1",
        "FORCE_COLOR": None,
        "TTY_COMPATIBLE": None,
    }
    result = CliRunner().invoke(app, [*path, "--help"], env=env, prog_name="shopkeeper")
    if result.exit_code != 0:
        raise RuntimeError(f"shopkeeper {' '.join(path)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")


def cli_reference_markdown() -> str:
    """The CLI reference: every command's ``--help``, under a heading naming the command."""
    parts = []
    for path in cli_commands():
        parts.append(f"### `{' '.join(('shopkeeper', *path))}`\n\n```text\n{cli_help(path)}\n```")
    return "\n\n".join(parts)


def section_text(readme: str, section: Section) -> str | None:
    """What README holds between the section's markers (None when the markers are missing)."""
    start, end = readme.find(section.start), readme.find(section.end)
    if start < 0 or end < start:
        return None
    return readme[start + len(section.start) : end].strip("\n")


def render(readme: str) -> str:
    """``readme`` with both generated sections brought up to date (appended if missing)."""
    for section, body in (
        (SETTINGS_SECTION, settings_table_markdown()),
        (CLI_SECTION, cli_reference_markdown()),
    ):
        block = f"{section.start}\n{body}\n{section.end}"
        if section_text(readme, section) is None:
            readme = readme.rstrip("\n") + f"\n\n## {section.title}\n\n{block}\n"
        else:
            start = readme.find(section.start)
            end = readme.find(section.end) + len(section.end)
            readme = readme[:start] + block + readme[end:]
    return readme


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [a for a in args if not a.startswith("--")]
    path = Path(paths[0]) if paths else README
    current = path.read_text(encoding="utf-8")
    updated = render(current)
    if updated == current:
        print(f"{path} is up to date")
        return 0
    if check:
        print(f"{path} is out of date: run python -m shopkeeper.ops.docs")
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"rewrote the generated sections of {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

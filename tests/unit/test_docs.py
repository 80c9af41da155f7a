"""The docs match the code: every command they show parses, every relative link resolves.

Contract: each `frontdesk ...` command in README.md, ARCHITECTURE.md and docs/*.md (in a
code block or inline code) names a real subcommand path, whose `--help` succeeds, and every
option it shows (`--port`, `-q`, ...) is an option of that command. Every relative link
(and image) points at a file that exists, and an anchor at a heading of that file.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from frontdesk.cli.main import app

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "ARCHITECTURE.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`(frontdesk [^`]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Shown:
    """A command as a doc shows it."""

    doc: str
    line: int
    text: str


def _commands() -> list[Shown]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in FENCE.finditer(text):
            first = text.count("\n", 0, block.start()) + 1
            body = block.group(0).replace("\\\n", " ")
            for offset, line in enumerate(body.splitlines()):
                command = re.sub(r"^\$\s+|^(?:[A-Z_]+=\S+\s+)+", "", line.strip())
                if command.startswith("frontdesk "):
                    found.append(Shown(doc.name, first + offset, command))
        for number, line in enumerate(FENCE.sub(_blank, text).splitlines(), 1):
            found += [Shown(doc.name, number, m.group(1)) for m in INLINE.finditer(line)]
    return found


def _blank(block: re.Match[str]) -> str:
    return "\n" * block.group(0).count("\n")


def _tokens(command: str) -> list[str]:
    command = re.split(r"\s#\s|\s\|\s|\s>\s", command)[0]
    try:
        return shlex.split(command)[1:]
    except ValueError:
        return command.split()[1:]


def _resolve(tokens: list[str]) -> list[tuple[list[str], Any, list[str]]]:
    """(subcommand path, command, the rest) for each alternative (`a|b`) the doc shows."""
    paths: list[tuple[list[str], Any, list[str]]] = [([], typer.main.get_command(app), tokens)]
    done = []
    while paths:
        path, command, rest = paths.pop()
        head = rest[0] if rest else ""
        options = head.split("|")
        children = getattr(command, "commands", None)
        if isinstance(children, dict) and all(o in children for o in options):
            for option in options:
                paths.append(([*path, option], command.commands[option], rest[1:]))
        else:
            done.append((path, command, rest))
    return done


def _options(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


SHOWN = _commands()


def test_the_docs_show_commands() -> None:
    assert len(SHOWN) > 40
    assert any(s.text.startswith("frontdesk broker stop") for s in SHOWN)


@pytest.mark.parametrize("shown", SHOWN, ids=lambda s: f"{s.doc}:{s.line}")
def test_each_command_shown_parses(shown: Shown) -> None:
    runner = CliRunner()
    for path, command, rest in _resolve(_tokens(shown.text)):
        where = f"{shown.doc}:{shown.line}: {shown.text}"
        assert path, f"{where}: no such command"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"{where}: {result.output}"
        known = _options(command)
        for token in rest:
            name = token.strip("[]").split("=")[0]
            if re.fullmatch(r"--?[a-z][a-z-]*", name):
                assert name in known, f"{where}: {' '.join(path)} has no option {name}"


def _anchors(doc: Path) -> set[str]:
    """GitHub's ids of a Markdown file's headings."""
    headings = re.findall(r"^#+\s+(.+)$", FENCE.sub(_blank, doc.read_text()), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_relative_links_resolve(doc: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub(_blank, doc.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{doc.name}: {broken}"

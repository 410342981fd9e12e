"""A page written for the Prefect UI (markdown: a case's status, a dashboard, a publication) as
a terminal shows it: rendered by rich (headings, tables, lists), without the mermaid diagram,
which only the UI draws; or, for who wants it, the markdown as it is."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from cli.common import out

MarkdownOption = Annotated[
    bool, typer.Option("--markdown", help="Stampa il markdown come lo riceve la UI di Prefect.")
]

# A fenced mermaid block, with the heading right above it (kept if the section says more).
_DIAGRAM = re.compile(
    r"(?P<heading>^(?P<level>#{1,6})[ \t][^\n]*\n(?:[ \t]*\n)*)?"
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*mermaid\b.*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)\n?",
    re.MULTILINE | re.DOTALL,
)
_HEADING = re.compile(r"(#{1,6})[ \t]")


def without_diagrams(markdown: str) -> str:
    """The markdown without its mermaid blocks; a heading left with nothing under it goes too."""

    def drop(found: re.Match[str]) -> str:
        heading = found["heading"] or ""
        after = markdown[found.end() :].lstrip()
        below = _HEADING.match(after)
        empty = not after or (below is not None and len(below[1]) <= len(found["level"] or ""))
        return "" if empty else heading

    return _DIAGRAM.sub(drop, markdown).rstrip() + "\n"


def show_markdown(markdown: str, raw: bool = False) -> None:
    """Print the page for a terminal; with `raw`, the markdown unchanged (diagram included)."""
    if raw:
        sys.stdout.write(markdown)
        return
    from rich.markdown import Markdown  # markdown-it only where a page is shown

    out.print(Markdown(without_diagrams(markdown)))

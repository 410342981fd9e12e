"""A page written for the Prefect UI, shown on a terminal (cli/terminal.py): the mermaid source
goes, and with it a heading left with nothing under it; everything else stays."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markdown import Markdown

from cli.terminal import without_diagrams

PAGE = """# Pratica ATT-2026-000001

**Stato attuale:** chiusa (`closed`)

## Storico
| # | evento |
|---|---|
| 1 | presentazione dell'istanza |

## Diagramma

```mermaid
stateDiagram-v2
  FILED --> FORWARDED: forward
```
"""


def test_the_diagram_and_its_heading_go_the_rest_stays() -> None:
    shown = without_diagrams(PAGE)
    assert "mermaid" not in shown and "stateDiagram" not in shown and "Diagramma" not in shown
    assert shown == PAGE.split("\n## Diagramma")[0].rstrip() + "\n"


def test_a_heading_with_more_under_it_stays() -> None:
    page = "# A\n\n## Diagramma\n\n```mermaid\nstateDiagram-v2\n```\nLegenda.\n\n## B\nx\n"
    assert without_diagrams(page) == "# A\n\n## Diagramma\n\nLegenda.\n\n## B\nx\n"
    deeper = "# A\n```mermaid\nx\n```\n\n## B\nx\n"  # a subsection is what the heading holds
    assert without_diagrams(deeper) == "# A\n\n## B\nx\n"


def test_a_page_without_a_diagram_is_unchanged() -> None:
    page = "# Elenco\n\n- una anomalia\n"
    assert without_diagrams(page) == page


def test_rendered_for_a_terminal_the_page_has_no_markdown_syntax() -> None:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(Markdown(without_diagrams(PAGE)))
    text = console.export_text()
    assert "Pratica ATT-2026-000001" in text and "Stato attuale: chiusa (closed)" in text
    assert "presentazione dell'istanza" in text
    assert "# Pratica" not in text and not {"**", "|---|", "```"} & set(text.split())

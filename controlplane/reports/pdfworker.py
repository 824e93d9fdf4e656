"""Render report chunks to PDF in worker processes: WeasyPrint and the standard library only.

``controlplane.reports.rendering`` cuts a long report into chunks; WeasyPrint renders one
document at a time on one core, so the chunks are handed to ``REPORT_RENDER_WORKERS`` processes
running ``python -m controlplane.reports.pdfworker`` (no Django: a worker neither reads the
database nor loads settings). The protocol is one JSON object per line:

* first, on stdin: ``{"sheets": {name: css text}, "base_url": path}``; the worker parses each
  stylesheet once (with its ``@font-face`` rules) and answers ``{"ready": true}``;
* then one job per line: ``{"html": path, "pdf": path, "sheet": name, "title": text}``; the
  worker reads the body from ``html``, writes the PDF to ``pdf`` and answers ``{"pages": n}``,
  or ``{"error": text}`` (it keeps serving);
* end of input: the worker exits.

:class:`Renderer` is the same rendering, in process, for one worker or for none.
"""

from __future__ import annotations

import html
import json
import sys
import traceback
from pathlib import Path


def page_html(body: str, title: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )


class Renderer:
    """Stylesheets parsed once, fonts loaded once; each ``render`` is one small document."""

    def __init__(self, sheets: dict[str, str], base_url: str):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.base_url = base_url
        self.fonts = FontConfiguration()
        self.sheets = {
            name: CSS(string=text, base_url=base_url, font_config=self.fonts)
            for name, text in sheets.items()
        }

    def render(self, body: str, *, sheet: str, title: str, out: Path) -> int:
        from weasyprint import HTML

        document = HTML(string=page_html(body, title), base_url=self.base_url).render(
            stylesheets=[self.sheets[sheet]], font_config=self.fonts
        )
        document.write_pdf(str(out))
        return len(document.pages)


def _answer(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    first = sys.stdin.readline()
    if not first:
        return 0
    setup = json.loads(first)
    renderer = Renderer(setup["sheets"], setup["base_url"])
    _answer({"ready": True})
    for line in sys.stdin:
        job = json.loads(line)
        try:
            body = Path(job["html"]).read_text(encoding="utf-8")
            pages = renderer.render(
                body, sheet=job["sheet"], title=job.get("title", ""), out=Path(job["pdf"])
            )
        except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the report
            _answer({"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()})
            continue
        _answer({"pages": pages})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Render a long report to PDF in bounded memory.

WeasyPrint lays out a whole document in memory, and its time grows faster than the number of
rows: a 10,000-row table in one document needs gigabytes. So a report is rendered in *chunks*
(a few hundred rows each, one small WeasyPrint document per chunk, written to a temporary PDF
and forgotten), then:

1. the front matter (cover and table of contents) is rendered last, when every section's first
   page is known;
2. one light *frame* document, with as many pages as the report, carries the running headers
   and "page X of Y" in its page margins;
3. pypdf stacks each frame page onto its content page and writes the file.

Memory is bounded by one chunk's layout plus the finished PDF's objects; time is linear in rows.
"""

from __future__ import annotations

import hashlib
import html
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

FONT_FILES = {
    ("Report Sans", "normal"): "DejaVuSans.ttf",
    ("Report Sans", "bold"): "DejaVuSans-Bold.ttf",
    ("Report Mono", "normal"): "DejaVuSansMono.ttf",
    ("Report Mono", "bold"): "DejaVuSansMono-Bold.ttf",
}


class RenderError(Exception):
    """The report cannot be rendered on this machine (missing fonts, unwritable folder...)."""


@dataclass(frozen=True)
class Chunk:
    html: str
    weight: int = 1  # units of progress (rows) this chunk stands for


@dataclass
class Section:
    key: str
    title: str
    chunks: Callable[[], Iterable[Chunk]]  # called once, lazily, when the section renders
    weight: int = 1
    level: int = 1


@dataclass
class TocEntry:
    key: str
    title: str
    page: int
    level: int = 1


@dataclass
class Rendered:
    pages: int
    size: int
    sha256: str
    toc: list[TocEntry] = field(default_factory=list)


Progress = Callable[[int, str], None]


def font_dir() -> Path:
    return Path(getattr(settings, "REPORT_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))


def font_face_css() -> str:
    """@font-face rules naming the exact font files, so no machine substitutes its own."""
    folder = font_dir()
    missing = [name for name in FONT_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise RenderError(
            f"Report fonts missing in {folder}: {', '.join(missing)}. Install the Debian package "
            "fonts-dejavu-core (apt-get install fonts-dejavu-core) or set REPORT_FONT_DIR."
        )
    rules = []
    for (family, weight), name in FONT_FILES.items():
        url = (folder / name).resolve().as_uri()
        rules.append(
            f'@font-face {{ font-family: "{family}"; font-weight: {weight}; src: url("{url}"); }}'
        )
    return "\n".join(rules)


def stylesheet() -> str:
    return font_face_css() + "\n" + render_to_string("reports/pdf/report.css")


def _page_html(body: str, css: str, title: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>"
        f"<body>{body}</body></html>"
    )


def _render_to(path: Path, body: str, css: str, title: str) -> int:
    document = HTML(string=_page_html(body, css, title), base_url=str(settings.BASE_DIR)).render()
    pages = len(document.pages)
    document.write_pdf(str(path))
    return pages


def css_string(text: str) -> str:
    """``text`` as the inside of a double-quoted CSS string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _frame_html(*, total: int, sections: list[tuple[int, str]], cover_pages: int) -> str:
    """One empty page per report page; its margins carry the header, section and page X of Y."""
    parts = []
    current = "Contents"
    starts = dict(sections)
    for number in range(1, total + 1):
        current = starts.get(number, current)
        css_class = "frame cover" if number <= cover_pages else "frame"
        parts.append(f'<div class="{css_class}" data-section="{html.escape(current)}"></div>')
    return "".join(parts)


def render_report(
    *,
    title: str,
    header: str,
    footer: str,
    front: Callable[[list[TocEntry]], str],
    sections: list[Section],
    out: Path,
    progress: Progress | None = None,
    cover_pages: int = 1,
) -> Rendered:
    """Render ``sections`` (chunk by chunk) behind ``front`` (cover + contents) into ``out``."""
    progress = progress or (lambda percent, stage: None)
    css = stylesheet()
    frame_css = css + "\n" + render_to_string(
        "reports/pdf/frame.css", {"header": css_string(header), "footer": css_string(footer)}
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    total_weight = max(1, sum(max(1, s.weight) for s in sections))
    done = 0
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".render-") as tmp:
        tmpdir = Path(tmp)
        chunk_files: list[tuple[Path, int]] = []
        starts: list[tuple[Section, int]] = []  # (section, first page, counted from content)
        content_pages = 0
        for section in sections:
            starts.append((section, content_pages + 1))
            progress(_percent(done, total_weight), section.title)
            for chunk in _non_empty(section.chunks()):
                path = tmpdir / f"chunk-{len(chunk_files):05d}.pdf"
                pages = _render_to(path, chunk.html, css, title)
                chunk_files.append((path, pages))
                content_pages += pages
                done += chunk.weight
                progress(_percent(done, total_weight), section.title)

        # Front matter: its length decides every page number, so settle it by rendering.
        front_path = tmpdir / "front.pdf"
        front_pages = cover_pages + 1
        toc: list[TocEntry] = []
        for _ in range(4):
            toc = [
                TocEntry(s.key, s.title, front_pages + first, s.level) for s, first in starts
            ]
            rendered = _render_to(front_path, front(toc), css, title)
            if rendered == front_pages:
                break
            front_pages = rendered
        else:
            raise RenderError("The table of contents does not settle on a page count.")
        progress(_percent(done, total_weight, ceiling=98), "Page numbers")

        total = front_pages + content_pages
        frame_path = tmpdir / "frame.pdf"
        frame_body = _frame_html(
            total=total,
            sections=[(e.page, e.title) for e in toc if e.level == 1],
            cover_pages=cover_pages,
        )
        _render_to(frame_path, frame_body, frame_css, title)

        writer = PdfWriter()
        frame = PdfReader(frame_path)
        number = 0
        for path in [front_path, *(p for p, _ in chunk_files)]:
            for page in PdfReader(path).pages:
                added = writer.add_page(page)
                if number >= cover_pages:
                    added.merge_page(frame.pages[number])
                    added.compress_content_streams()  # merging leaves them uncompressed
                number += 1
        if number != total:
            raise RenderError(f"Rendered {number} pages but numbered {total}.")
        for entry in toc:
            if entry.level == 1:
                writer.add_outline_item(title=entry.title, page_number=entry.page - 1)
        writer.add_metadata({"/Title": title, "/Creator": "Sovereignty control plane"})
        writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
        partial = tmpdir / "report.pdf"
        with open(partial, "wb") as handle:
            writer.write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
    digest, size = file_sha256(out)
    progress(100, "Done")
    return Rendered(pages=total, size=size, sha256=digest, toc=toc)


def file_sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _percent(done: int, total: int, ceiling: int = 95) -> int:
    return min(ceiling, int(done * ceiling / total))


def _non_empty(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    for chunk in chunks:
        if chunk.html.strip():
            yield chunk

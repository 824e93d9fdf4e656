"""Render a long report to PDF in bounded memory, on every core.

WeasyPrint lays out a whole document in memory, and its time grows faster than the number of
rows: a 10,000-row table in one document needs gigabytes. So a report is rendered in *chunks*
(a few hundred rows each, one small WeasyPrint document per chunk, written to a temporary PDF
and forgotten), then:

1. the front matter (cover and table of contents) is rendered last, when every section's first
   page is known;
2. light *frame* documents, with as many pages as the report, carry the running headers and
   "page X of Y" in their page margins (the numbers are written in, so the frame is rendered
   in parts like the chunks);
3. pypdf stacks each frame page onto its content page and writes the file.

WeasyPrint uses one core per document, so the documents are rendered by
``REPORT_RENDER_WORKERS`` worker processes (``controlplane.reports.pdfworker``, no Django; by
default one per core, ``0`` renders in this process) while this process reads the next chunk
from the database. A worker that has not answered ``REPORT_RENDER_TIMEOUT_SECONDS`` after it was
given a document fails the report, and every worker is killed. Memory is bounded by a few
chunks' layout plus the finished PDF's objects; time is linear in rows.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
)

from controlplane.reports.pdfworker import Renderer

log = logging.getLogger(__name__)
FRAME_PAGES_PER_PART = 100

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


def render_workers() -> int:
    """How many processes render documents: ``REPORT_RENDER_WORKERS`` (one per core)."""
    return max(0, int(settings.REPORT_RENDER_WORKERS))


def render_timeout() -> float:
    """How long a worker may take over one document: ``REPORT_RENDER_TIMEOUT_SECONDS``."""
    return float(settings.REPORT_RENDER_TIMEOUT_SECONDS)


class _Job:
    def __init__(self, index: int, html_path: Path, pdf: Path, sheet: str, title: str, weight: int):
        self.index, self.html, self.pdf = index, html_path, pdf
        self.sheet, self.title, self.weight = sheet, title, weight
        self.pages: int | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def finish(self, *, pages: int | None = None, error: str | None = None) -> None:
        self.pages, self.error = pages, error
        self.done.set()


class RenderPool:
    """Documents rendered to PDF files by worker processes, in submission order on disk.

    ``submit`` writes the body to a temporary file and queues it (it blocks while twice as many
    documents as workers wait, so memory stays bounded); ``pages(job)`` waits for one. With no
    workers, ``submit`` renders at once in this process. A worker that fails or dies fails the
    report (``RenderError``), never hangs it; so does one that has not answered ``timeout``
    seconds (``REPORT_RENDER_TIMEOUT_SECONDS``) after it was given a document: then every worker
    is killed, and what they were given fails with that reason.
    """

    # The worker's command line; tests put a worker that hangs in its place.
    command: tuple[str, ...] = (sys.executable, "-m", "controlplane.reports.pdfworker")

    def __init__(
        self,
        *,
        sheets: dict[str, str],
        base_url: str,
        workers: int,
        tmpdir: Path,
        timeout: float | None = None,
    ):
        self.sheets, self.base_url, self.tmpdir = sheets, base_url, Path(tmpdir)
        self.workers = workers
        self.timeout = render_timeout() if timeout is None else timeout
        self.jobs: list[_Job] = []
        self.broken: str | None = None
        self._broken_lock = threading.Lock()
        self._renderer: Renderer | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, 2 * workers))
        self._processes: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> RenderPool:
        if self.workers == 0:
            self._renderer = Renderer(self.sheets, self.base_url)
            return self
        setup = json.dumps({"sheets": self.sheets, "base_url": self.base_url}) + "\n"
        for number in range(self.workers):
            errors = open(self.tmpdir / f"worker-{number}.log", "wb")  # noqa: SIM115 - the child owns it
            process = subprocess.Popen(
                list(self.command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=str(settings.BASE_DIR),
                text=True,
                encoding="utf-8",
            )
            errors.close()
            process.stdin.write(setup)
            process.stdin.flush()
            self._processes.append(process)
            thread = threading.Thread(target=self._serve, args=(process, number), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None:  # failing already: drop what waits instead of rendering it
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                job.finish(error="abandoned")
            self._kill_workers()  # and what they render now: nobody reads it
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        for process in self._processes:
            try:
                process.stdin.close()
            except OSError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _break(self, reason: str) -> str:
        """Mark the pool broken; the first reason stands (later ones are its consequences)."""
        with self._broken_lock:
            self.broken = self.broken or reason
            return self.broken

    def _kill_workers(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()  # SIGKILL: a stopped or busy worker cannot ignore it

    def _expire(self, number: int, doing: str) -> None:
        """A worker took longer than the timeout: fail the report and terminate the pool (the
        others' answers would be thrown away; killing them also ends every wait on them)."""
        self._break(
            f"render worker {number} did not finish {doing} within {self.timeout:g} s "
            "(REPORT_RENDER_TIMEOUT_SECONDS); the render workers were stopped"
        )
        self._kill_workers()

    def _read_answer(self, process: subprocess.Popen, number: int, doing: str) -> str:
        """The worker's next line ("" once it has ended), read under the timeout."""
        watchdog = threading.Timer(self.timeout, self._expire, args=(number, doing))
        watchdog.daemon = True
        watchdog.start()
        try:
            return process.stdout.readline()
        finally:
            watchdog.cancel()

    def _serve(self, process: subprocess.Popen, number: int) -> None:
        try:
            ready = self._read_answer(process, number, "starting")
            if not ready or not json.loads(ready).get("ready"):
                raise RenderError(f"render worker {number} did not start: {self._log(number)}")
        except (ValueError, OSError, RenderError) as error:
            self._break(str(error))
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self.broken:
                job.finish(error=self.broken)
                continue
            try:
                process.stdin.write(
                    json.dumps(
                        {
                            "html": str(job.html),
                            "pdf": str(job.pdf),
                            "sheet": job.sheet,
                            "title": job.title,
                        }
                    )
                    + "\n"
                )
                process.stdin.flush()
                line = self._read_answer(process, number, f"document {job.pdf.name}")
                if not line:
                    raise RenderError(f"render worker {number} ended: {self._log(number)}")
                answer = json.loads(line)
            except (OSError, ValueError, RenderError) as error:
                reason = str(error)
                if not isinstance(error, RenderError):
                    reason = f"render worker {number} ended: {error} {self._log(number)}"
                job.finish(error=self._break(reason))
                continue
            if "error" in answer:
                log.error("render worker %s: %s", number, answer.get("trace", answer["error"]))
                job.finish(error=answer["error"])
            else:
                job.finish(pages=int(answer["pages"]))
            job.html.unlink(missing_ok=True)

    def _log(self, number: int) -> str:
        try:
            return (self.tmpdir / f"worker-{number}.log").read_text(errors="replace")[-500:]
        except OSError:
            return ""

    def submit(self, body: str, *, sheet: str, title: str, pdf: Path, weight: int = 1) -> _Job:
        if self.broken:
            raise RenderError(f"The report could not be rendered: {self.broken}")
        index = len(self.jobs)
        html_path = self.tmpdir / f"job-{index:05d}.html"
        job = _Job(index, html_path, Path(pdf), sheet, title, weight)
        self.jobs.append(job)
        if self._renderer is not None:
            job.finish(pages=self._renderer.render(body, sheet=sheet, title=title, out=job.pdf))
            return job
        html_path.write_text(body, encoding="utf-8")
        self._queue.put(job)
        return job

    def pages(self, job: _Job) -> int:
        job.done.wait()
        if job.error:
            raise RenderError(f"The report could not be rendered: {job.error}")
        return job.pages

    def finished_weight(self) -> int:
        return sum(job.weight for job in self.jobs if job.done.is_set())


def css_string(text: str) -> str:
    """``text`` as the inside of a double-quoted CSS string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _frame_html(
    *, first: int, last: int, total: int, sections: list[tuple[int, str]], cover_pages: int
) -> str:
    """One empty page per report page from ``first`` to ``last``; its margins carry the header,
    the section and "page X of Y" (the numbers are written in: a part starts anywhere)."""
    parts = []
    current = "Contents"
    starts = dict(sections)
    for number in range(1, last + 1):
        current = starts.get(number, current)
        if number < first:
            continue
        css_class = "frame cover" if number <= cover_pages else "frame"
        parts.append(
            f'<div class="{css_class}" data-section="{html.escape(current)}" '
            f'data-page="{number}" data-total="{total}"></div>'
        )
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
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    total_weight = max(1, sum(max(1, s.weight) for s in sections))
    with (
        tempfile.TemporaryDirectory(dir=out.parent, prefix=".render-") as tmp,
        RenderPool(
            sheets={"report": css, "frame": css + "\n" + _frame_css(header, footer)},
            base_url=str(settings.BASE_DIR),
            workers=render_workers(),
            tmpdir=Path(tmp),
        ) as pool,
    ):
        tmpdir = Path(tmp)
        chunks: list[_Job] = []
        section_chunks: list[tuple[Section, int]] = []  # (section, index of its first chunk)
        for section in sections:
            section_chunks.append((section, len(chunks)))
            progress(_percent(pool.finished_weight(), total_weight), section.title)
            for chunk in _non_empty(section.chunks()):
                chunks.append(
                    pool.submit(
                        chunk.html,
                        sheet="report",
                        title=title,
                        pdf=tmpdir / f"chunk-{len(chunks):05d}.pdf",
                        weight=chunk.weight,
                    )
                )
                progress(_percent(pool.finished_weight(), total_weight), section.title)
        for job in chunks:  # in order; the workers finish them meanwhile
            pool.pages(job)
            progress(_percent(pool.finished_weight(), total_weight), "Laying out pages")
        first_page = [sum(job.pages for job in chunks[:index]) + 1 for _, index in section_chunks]
        content_pages = sum(job.pages for job in chunks)

        # Front matter: its length decides every page number, so settle it by rendering.
        front_path = tmpdir / "front.pdf"
        front_pages = cover_pages + 1
        toc: list[TocEntry] = []
        for _ in range(4):
            toc = [
                TocEntry(s.key, s.title, front_pages + first, s.level)
                for (s, _), first in zip(section_chunks, first_page, strict=True)
            ]
            job = pool.submit(front(toc), sheet="report", title=title, pdf=front_path)
            if pool.pages(job) == front_pages:
                break
            front_pages = job.pages
        else:
            raise RenderError("The table of contents does not settle on a page count.")
        progress(_percent(total_weight, total_weight, ceiling=96), "Page numbers")

        total = front_pages + content_pages
        headings = [(e.page, e.title) for e in toc if e.level == 1]
        frames = [
            pool.submit(
                _frame_html(
                    first=start,
                    last=min(total, start + FRAME_PAGES_PER_PART - 1),
                    total=total,
                    sections=headings,
                    cover_pages=cover_pages,
                ),
                sheet="frame",
                title=title,
                pdf=tmpdir / f"frame-{start:06d}.pdf",
            )
            for start in range(1, total + 1, FRAME_PAGES_PER_PART)
        ]
        framed = sum(pool.pages(job) for job in frames)
        if framed != total:
            raise RenderError(f"Numbered {framed} pages of {total}.")
        progress(_percent(total_weight, total_weight, ceiling=98), "Assembling the file")

        writer = PdfWriter()
        stamp = _Stamper(writer)
        frame_pages = (page for job in frames for page in PdfReader(job.pdf).pages)
        number = 0
        for path in [front_path, *(job.pdf for job in chunks)]:
            for page in PdfReader(path).pages:
                frame_page = next(frame_pages)
                added = writer.add_page(page)
                if number >= cover_pages:
                    stamp(added, frame_page)
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


class _Stamper:
    """Draws a frame page over a content page as a form XObject. pypdf's ``merge_page``
    parses both pages' content streams to rename resources and isolate the graphics state
    (a third of the assembling time of a 700-page report); this leaves the page's content as
    it is, between ``q`` and ``Q``, and draws the frame after it."""

    NAME = NameObject("/ReportFrame")

    def __init__(self, writer: PdfWriter):
        self.writer = writer
        self.open = self._stream(b"q\n")
        self.close = self._stream(b"\nQ q /ReportFrame Do Q\n")

    def _stream(self, data: bytes):
        stream = DecodedStreamObject()
        stream.set_data(data)
        return self.writer._add_object(stream)

    def __call__(self, page, frame_page) -> None:
        form = DecodedStreamObject()
        form.set_data(frame_page.get_contents().get_data())
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(FloatObject(v) for v in frame_page.mediabox),
                NameObject("/Resources"): frame_page["/Resources"].get_object().clone(self.writer),
            }
        )
        reference = self.writer._add_object(form.flate_encode())
        # The page's own resources, copied (pages may share one dictionary), plus the frame.
        resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
        xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
        xobjects[self.NAME] = reference
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources
        contents = page.get("/Contents")
        own = (
            list(contents) if isinstance(contents, ArrayObject) else [contents] if contents else []
        )
        page[NameObject("/Contents")] = ArrayObject([self.open, *own, self.close])


def _frame_css(header: str, footer: str) -> str:
    return render_to_string(
        "reports/pdf/frame.css", {"header": css_string(header), "footer": css_string(footer)}
    )


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

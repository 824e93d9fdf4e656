"""A render worker that hangs (tests only): the real worker, whose render never returns after
its first document. ``python -m tests.reports.hanging_pdfworker``; it writes its pid to the
file named by ``HANGING_WORKER_PIDS`` so the test can check it was stopped."""

import os
import sys
import time

from controlplane.reports import pdfworker

real_render = pdfworker.Renderer.render
rendered = []


def render_then_hang(self, body, *, sheet, title, out):
    if rendered:
        time.sleep(3600)
    rendered.append(out)
    return real_render(self, body, sheet=sheet, title=title, out=out)


if __name__ == "__main__":
    with open(os.environ["HANGING_WORKER_PIDS"], "a", encoding="utf-8") as pids:
        pids.write(f"{os.getpid()}\n")
    pdfworker.Renderer.render = render_then_hang
    sys.exit(pdfworker.main())

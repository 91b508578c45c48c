"""WeasyPrint fetches nothing (finding 6): the report PDF is laid out with a deny-all URL
fetcher that serves only the app's own static files, from disk — no HTTP, no other file."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from consult.answers import exports

CI = os.environ.get("CI", "").lower() == "true"


def _weasyprint_or_skip():
    try:
        import weasyprint  # noqa: F401
    except OSError as error:
        if CI:
            raise
        pytest.skip(f"WeasyPrint's system libraries are missing: {error}")


@pytest.fixture
def listener():
    """A local HTTP server that counts every request made to it."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red; }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_nothing_outside_the_app_is_fetched_while_laying_out_a_pdf(app, listener):
    _weasyprint_or_skip()
    base, hits = listener
    html = f"""<html><head>
      <link rel="stylesheet" href="{base}/style.css">
      <style>@import url("{base}/imported.css"); body {{ background: url("{base}/bg.png"); }}
      @font-face {{ font-family: x; src: url("{base}/font.woff"); }}</style></head>
      <body><img src="{base}/pixel.png"><img src="file:///etc/passwd">
      <iframe src="{base}/frame"></iframe><object data="{base}/object"></object>
      <p>正文</p></body></html>"""
    pdf = exports.html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert hits == []


def test_the_fetcher_serves_static_files_from_disk_and_refuses_everything_else(app):
    _weasyprint_or_skip()
    fetcher = exports.static_only_fetcher(app.static_folder)
    css = Path(app.static_folder, "css", "report-print.css").resolve()
    response = fetcher(css.as_uri())
    assert response.read().startswith(b"/*")
    response.close()
    for url in ["http://127.0.0.1/", "https://example.org/x.css", "ftp://example.org/x",
                "file:///etc/passwd", f"{css.as_uri()}/../../../../../etc/passwd",
                Path(app.static_folder).resolve().parent.joinpath("app.py").as_uri(),
                "data:text/css,body{}"]:
        with pytest.raises(ValueError):
            fetcher(url)


def test_the_report_pdf_still_has_its_stylesheet(client, make):
    """The print stylesheet (A4 page, fonts) is served to WeasyPrint from disk."""
    _weasyprint_or_skip()
    html = "<html><body><h1>标题</h1></body></html>"
    assert exports.html_to_pdf(html).startswith(b"%PDF-")

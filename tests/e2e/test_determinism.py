"""The same URL gives the same figures after a server restart: seeded everything, nothing kept in memory.

Every page that exists is opened on a fresh server; its address (the share link the page writes) and the
data of every figure the browser drew (``gd._fullData``) are recorded. The server is stopped and a new
one started on the same port (a new process, so a new hash seed and empty caches); each link is opened in
a new browser context, and every figure must hold exactly the same numbers.
"""
from __future__ import annotations

import pytest

from bench.browser import (CHROMIUM, FLAGS, PLOTS_SCRIPT, SETTLED, VIEWPORT, _free_port, start_server,
                           stop_server)
from lossviz.ui.catalog import PAGES
from tests.e2e.conftest import ARTIFACTS

EXISTING = [page for page in PAGES if page.exists]

# Every current (not stale) chart in page order, live charts included: traces' kind, name and data arrays.
FIGURES = r"""
() => window.__lvPlots()
  .map(gd => gd._fullData.map(t => {
    const plain = (v) =>
      (v && typeof v === 'object' && typeof v.length === 'number') ? Array.from(v, plain) : v;
    const out = {type: t.type, name: t.name || ''};
    for (const k of ['x', 'y', 'z', 'text']) { if (t[k] !== undefined) out[k] = plain(t[k]); }
    return out;
  }))
"""


def _open(browser, url: str) -> tuple[str, list]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(PLOTS_SCRIPT)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function(SETTLED, arg=800, timeout=240_000, polling="raf")
        assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {url}"
        return page.url, page.evaluate(FIGURES)
    finally:
        context.close()


def _serve(port: int, log_name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / log_name
    return start_server(port, log), log


def test_the_same_link_draws_the_same_figures_after_a_restart(playwright):
    if not EXISTING:
        pytest.skip("no page exists yet")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    try:
        server, first_log = _serve(port, "determinism_server_1.log")
        try:
            before = {page.url_path: _open(browser, f"{base}/{page.url_path}") for page in EXISTING}
        finally:
            stop_server(server)
        server, second_log = _serve(port, "determinism_server_2.log")
        try:
            after = {name: _open(browser, link)[1] for name, (link, _) in before.items()}
        finally:
            stop_server(server)
    finally:
        browser.close()

    for log in (first_log, second_log):
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    for name, (link, figures) in before.items():
        assert "?" in link, f"{name} wrote no settings into its address: {link}"
        assert figures and all(any("x" in t or "z" in t for t in fig) for fig in figures), \
            f"{name} drew no figure with data"
        assert after[name] == figures, f"{name}: the link {link} drew different figures after a restart"

"""Navigation through the entry point: a deep link opened as a fresh server's very first request lands on
the right page with its settings and the app's own sidebar (Streamlit runs that first run the old
pages/-folder way; lossviz.ui.nav.through_entry_point reruns it through app.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from lossviz.ui.catalog import PAGES
from tests.e2e.conftest import ROOT, _free_port, _wait_healthy, wait_for_app


@pytest.fixture()
def fresh_server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
         "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_a_deep_link_as_the_first_request_lands_on_its_page_with_its_settings(fresh_server, page):
    page.goto(f"{fresh_server}/Surface_Explorer?steps=77&racers=1")
    wait_for_app(page, timeout=90_000)
    assert page.locator("h1").first.inner_text() == "Surface Explorer"
    assert "steps=77" in page.url and "racers=1" in page.url
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Home" in sidebar and all(p.title in sidebar for p in PAGES if p.exists)
    assert "\napp\n" not in f"\n{sidebar}\n"

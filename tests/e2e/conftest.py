"""Browser tests: a real `streamlit run` server and Debian's chromium driven by Playwright.

Playwright's own browser download cannot work on these machines, so the tests launch /usr/bin/chromium
(installed by `make test`) with the flags this sandbox needs.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # A projector-sized window: what a classroom sees.
    return {**browser_context_args, "viewport": {"width": 1600, "height": 1000}, "accept_downloads": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not become healthy at {url} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app once per test session on a free port; yield its base URL; stop it."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        # As make run and docs/DEPLOYMENT.md start it.
        [sys.executable, "-m", "lossviz", "app", "--port", str(port), "--", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        server_log = log_path.read_text()
        # A traceback in the server log is a failure even when the page looked fine.
        assert "Traceback" not in server_log, server_log[-4000:]


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the script run and the page has stopped changing.

    The status widget can be absent for a moment before a rerun starts, and elements arrive in pieces,
    so this also waits for the rendered text to stay the same for half a second.
    """
    page.wait_for_selector('[data-testid="stMainBlockContainer"]', timeout=timeout)
    page.wait_for_function(
        """() => {
            const main = document.querySelector('[data-testid="stMainBlockContainer"]');
            const busy = document.querySelector('[data-testid="stStatusWidget"]');
            const text = main && main.innerText.trim()
                ? main.innerText.length + ':' + document.querySelectorAll('*').length : '';
            const now = Date.now();
            if (busy || !text || text !== window.__lvText) {
                window.__lvText = text; window.__lvSince = now; return false;
            }
            return now - window.__lvSince > 800;
        }""",
        timeout=timeout,
        polling=100,
    )


def save_screenshot(page, name: str) -> Path:
    """The whole page at the projector width (1600) and at a laptop's 1366x768, into test-artifacts/.

    Streamlit scrolls an inner container, so a "full page" shot of the document is only the viewport:
    the viewport grows to the content's height first, then is restored. Returns the 1600-wide shot.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    viewport = page.viewport_size
    shots = {f"{name}.png": viewport["width"], f"{name}_1366x768.png": 1366}
    for file_name, width in shots.items():
        page.set_viewport_size({"width": width, "height": 768 if width == 1366 else viewport["height"]})
        page.wait_for_timeout(400)
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
            "[data-testid=\"stAppViewContainer\"], section')].map(e => e.scrollHeight), 600)"
        )
        page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12000)})
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / file_name), full_page=True)
    page.set_viewport_size(viewport)
    return ARTIFACTS / f"{name}.png"


PLOT = "document.querySelector('.js-plotly-plot')"


def chart_frame(page, key: str, timeout: float = 60_000):
    """The frame of live chart ``key`` (lossviz.ui.live_plotly), once its plot is drawn (while a rerun
    replaces elements, a stale copy may stand beside it for a moment: the drawn one is taken)."""
    page.wait_for_function(
        """(key) => [...document.querySelectorAll(`.st-key-${key} iframe`)].some(f => {
             const gd = f.contentDocument && f.contentDocument.querySelector('.js-plotly-plot');
             return Boolean(gd && gd._fullData && gd._fullData.length); })""", arg=key, timeout=timeout)
    drawn = f"() => {{ const gd = {PLOT}; return Boolean(gd && gd._fullData && gd._fullData.length); }}"
    for element in page.locator(f".st-key-{key} iframe").element_handles():
        frame = element.content_frame()
        if frame is not None and frame.evaluate(drawn):
            return frame
    raise AssertionError(f"live chart {key} is not drawn")


def chart_traces(page, key: str) -> dict:
    """name -> {x, y, z} of the traces live chart ``key`` holds now (arrays as lists); an undrawn trace
    (``visible: false``, as a map's grid under its background image) gives the data it was sent."""
    traces = chart_frame(page, key).evaluate(
        f"() => {{ const gd = {PLOT}; return Object.fromEntries(gd._fullData.filter(t => t.name).map(t => {{"
        " const s = t.visible === false ? gd.data[t.index] : t;"
        " const list = v => v && v.bdata ? v : v ? Array.from(v, r => r && r.length !== undefined"
        "   && typeof r !== 'string' ? Array.from(r) : r) : null;"
        " return [t.name, {x: list(s.x), y: list(s.y), z: list(s.z)}]; })); }")
    return {name: {axis: _decoded(values) for axis, values in trace.items()}
            for name, trace in traces.items()}


def _decoded(values):
    """A plotly typed-array spec (``{dtype, bdata, shape}``) as nested lists; anything else as it is."""
    if not isinstance(values, dict) or "bdata" not in values:
        return values
    import base64

    import numpy as np
    array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    shape = values.get("shape")
    if shape:
        array = array.reshape([int(n) for n in str(shape).split(",")] if isinstance(shape, str) else shape)
    return array.tolist()


def downloaded(page, button: str) -> str:
    """Click the download button named ``button``; return the file's text (a click reruns the page: it
    is waited for before and after). A click that lands while a rerun replaces the button asks for a file
    the server has just dropped ("Deferred file not found"): the click is made once more on the new one."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt, timeout in enumerate((30_000, 60_000)):
        wait_for_app(page)
        try:
            with page.expect_download(timeout=timeout) as download:
                page.get_by_role("button", name=button).click()
            break
        except PlaywrightTimeout:
            if attempt:
                raise
    text = Path(download.value.path()).read_text(encoding="utf-8")
    wait_for_app(page)
    return text


def save_screenshots(page, name: str) -> None:
    """The page at the projector's 1600 width and a laptop's 1366x768 (:func:`save_screenshot` takes both)."""
    save_screenshot(page, name)


def mark_charts(page, keys) -> None:
    """Mark the window of each live chart ``keys``: a chart that is remounted loses its mark."""
    for key in keys:
        chart_frame(page, key).evaluate("() => { window.__lvMounted = true; }")


def still_mounted(page, keys) -> list[str]:
    """The charts of ``keys`` whose frame is the one marked by :func:`mark_charts` (not remounted)."""
    return [key for key in keys if chart_frame(page, key).evaluate("() => window.__lvMounted === true")]

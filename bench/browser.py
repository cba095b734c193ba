"""Browser benchmark: real `streamlit run` server, headless Debian chromium, key press to updated figure.

    python -m bench.browser [--interactions 30] [--output docs/BENCHMARKS.md] [--no-write]

For each page probe it measures the first render (navigation to the last figure drawn and the script
run finished), then presses an arrow key on a slider N times and measures, for each press, the time from
the key event (a listener on ``window`` in the capture phase, since the slider stops propagation) to the
moment the figure's data in the browser (``gd._fullData``) shows the new value. It reports p50 / p95,
and the server's resident memory after all pages. Results go into a marked block of
docs/BENCHMARKS.md, so the NumPy benchmark's table and this one live side by side.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
BEGIN, END = "<!-- browser-benchmark:begin -->", "<!-- browser-benchmark:end -->"


@dataclass(frozen=True)
class Probe:
    """A page, the slider whose arrow key is pressed, and a JS expression that changes when it takes effect.

    ``signature`` is evaluated in the page and must return a string that differs once the figure shows
    the new setting (for the Explorer: the length of the first path on the contour map).
    """

    title: str
    path: str
    slider_label: str
    signature: str
    target_p50_ms: float | None = None
    target_p95_ms: float | None = None


EXPLORER_PATH_LENGTH = (
    "(() => { const gd = document.querySelectorAll('.js-plotly-plot')[1];"
    " if (!gd || !gd._fullData) return '';"
    " const t = gd._fullData.find(t => t.name && t.name.startsWith('1. '));"
    " return t ? String(t.x.length) : ''; })()"
)

PROBES = [
    Probe("Surface Explorer", "/Surface_Explorer", "steps", EXPLORER_PATH_LENGTH, 250.0, 400.0),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
         "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy")


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def measure(page, base_url: str, probe: Probe, interactions: int) -> dict:
    t0 = time.perf_counter()
    page.goto(base_url + probe.path)
    page.wait_for_function(f"() => {probe.signature} !== ''", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    first_render = time.perf_counter() - t0
    page.evaluate(
        "() => { window.__keyAt = 0;"
        " window.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, {capture: true}); }"
    )
    slider = page.locator(f'input[type="range"][aria-label="{probe.slider_label}"]')
    latencies = []
    for i in range(interactions + 3):  # the first presses warm the caches of a fresh session
        before = page.evaluate(f"() => {probe.signature}")
        slider.focus()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        elapsed = page.evaluate(
            """([sig, before]) => new Promise((resolve, reject) => {
                const start = performance.now();
                const tick = () => {
                    const now = eval(sig);
                    if (now !== before && now !== '') { resolve(performance.now() - window.__keyAt); return; }
                    if (performance.now() - start > 20000) { reject('no update within 20 s'); return; }
                    requestAnimationFrame(tick);
                };
                tick();
            })""",
            [probe.signature, before],
        )
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
        if i >= 3:
            latencies.append(float(elapsed))
    lat = np.array(latencies)
    return {"page": probe.title, "first_render_s": first_render, "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)), "n": lat.size, "target_p50": probe.target_p50_ms,
            "target_p95": probe.target_p95_ms}


def run_benchmark(interactions: int = 30, probes: list[Probe] | None = None) -> tuple[list[dict], float]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = start_server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            rows = [measure(page, f"http://127.0.0.1:{port}", probe, interactions) for probe in probes or PROBES]
            browser.close()
        memory = resident_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows, memory


def render(rows: list[dict], memory_mb: float, interactions: int) -> str:
    def verdict(value, target):
        return "—" if target is None else ("met" if value <= target else "**missed**")

    lines = [
        BEGIN,
        "## Browser: key press to updated figure",
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m bench.browser --interactions {interactions}` on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, headless Debian chromium, default "
        "settings of each page. Latency runs from the key event (a capture-phase listener on `window`) to the "
        "browser's figure data showing the new value; the first 3 presses of a fresh session are not counted.",
        "",
        "| page | first render (s) | p50 (ms) | target | p95 (ms) | target | n |",
        "|---|---:|---:|---|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['page']} | {r['first_render_s']:.2f} | {r['p50_ms']:.0f} | "
            f"{'' if r['target_p50'] is None else '<= %d: ' % r['target_p50']}{verdict(r['p50_ms'], r['target_p50'])} | "
            f"{r['p95_ms']:.0f} | {'' if r['target_p95'] is None else '<= %d: ' % r['target_p95']}"
            f"{verdict(r['p95_ms'], r['target_p95'])} | {r['n']} |"
        )
    lines += ["", f"Server resident memory after all pages: {memory_mb:.0f} MB.", END]
    return "\n".join(lines)


def write_block(block: str, output: Path) -> None:
    text = output.read_text() if output.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    output.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=30)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    rows, memory = run_benchmark(args.interactions)
    block = render(rows, memory, args.interactions)
    print(block)
    if not args.no_write:
        write_block(block, args.output)


if __name__ == "__main__":
    main()

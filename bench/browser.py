"""Browser benchmark: the app's server (`python -m lossviz app`), headless chromium, key press to figure.

    python -m bench.browser [--interactions 30] [--pages Surface_Explorer Momentum ...] [--no-write]
    python -m bench.browser --profile-server Surface_Explorer   # where a page's rerun spends its time
    python -m bench.browser --profile-browser Surface_Explorer  # where the browser spends its time

Every page that exists (lossviz.ui.catalog) is opened in a fresh browser tab. For each it measures:

- **first render**: navigation start to the last change of the page before it stays still (every figure
  drawn, the script run finished);
- for pages with a :class:`Probe` (a slider and the figure it moves): the slider's arrow key is pressed
  N times, each press to a value not shown before (walking right to the slider's end, then left of where
  it started), so every press is a real rerun rather than a cache hit. Each press is timed from the key
  event (a capture-phase listener on ``window``, since the slider stops propagation) to the moment that
  figure's data in the browser (``gd._fullData`` and its layout) differs. The median is split into
  *client* (key to the rerun request leaving the page), *server* (measured apart, after the browser's
  presses: the same rerun requests sent over Streamlit's WebSocket protocol by a client that draws
  nothing, timed to the message carrying that figure, continuing to slider values not shown before) and
  *render* (the rest: the page's main thread, React and Plotly). In the browser itself the server's share
  cannot be timed: a page busy drawing delays even the reading of the next message;
- the server's CPU time per press (from /proc), which unlike wall time does not grow when other
  processes share the cores;
- the server's resident memory after all pages.

A page without a probe is measured for first render only and says so. Results go into a marked block of
docs/BENCHMARKS.md (other blocks are left alone), with the date and the machine's load average, since a
shared machine makes every latency pessimistic.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from lossviz.ui.catalog import PAGES, PageInfo  # noqa: E402
from lossviz.ui.live_plotly import COMPONENT_NAME as LIVE_CHART  # noqa: E402
from lossviz.ui.live_plotly import expand  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
BEGIN, END = report.markers("browser-benchmark")
TARGET_P50_MS, TARGET_P95_MS = 200.0, 350.0
TARGET_BASELINE_RATIO = 1.3  # p50 within 1.3x of the trivial baseline page's, measured in the same run
TARGET_SCRUB_MS = 50.0  # a scrubber step (client side) to updated figure
TARGET_FIRST_RENDER_S = 3.0  # link opened to every figure drawn
TARGET_RETRAIN_S = 1.0  # the neural-net page: a training setting changed to all figures updated
SCRUB_STEPS = 20
BASELINE = PageInfo("baseline", "bench/baseline_app.py", "Baseline: a trivial one-figure page", "")
WARMUP_PRESSES = 3  # a fresh session's first reruns also load modules and fill per-session state
VIEWPORT = {"width": 1600, "height": 1000}


@dataclass(frozen=True)
class Probe:
    """The slider (by widget key) whose arrow key is pressed, and the figure whose data must change when
    it takes effect: the live chart ``chart`` (its key, lossviz.ui.live_plotly), or on a page of plain
    ``st.plotly_chart`` figures (the baseline) the ``nth`` chart whose first trace has type ``figure_type``.

    A figure is found by its key, not by its type or position among the charts: during a rerun Streamlit
    marks the running part's elements stale (the reading skips them), so while a fragment reruns, the
    ``nth`` contour on the page can be another chart, whose appearance is no sign of the new figure.
    """

    slider_key: str
    figure_type: str
    what: str  # what the press changes, for the report
    nth: int = 0
    chart: str = ""  # the live chart's key; when set, it (not the type and position) names the figure


# One per page: the setting a student moves most, and a figure it redraws. A page missing here (or whose
# slider is not on the page) is measured for first render only.
PROBES: dict[str, Probe] = {
    "pages/1_Surface_Explorer.py": Probe("steps", "contour", "steps: every race rerun, contour map",
                                         chart="contour_chart"),
    "pages/2_Learning_Rate.py": Probe("steps", "contour", "steps: races, sweep, schedules; contour map",
                                      chart="race_map"),
    "pages/3_Momentum.py": Probe("momentum", "contour", "momentum β: the three methods rerun, their paths",
                                 chart="ravine_chart"),
    "pages/4_Regularization.py": Probe("strength", "contour", "strength λ: the regularized landscape",
                                       chart="geometry_chart"),
    "pages/5_Batch_Size.py": Probe("steps", "contour", "steps: SGD runs, the noise-ball map", chart="paths"),
    "pages/6_Loss_Functions.py": Probe("delta", "scatter", "Huber δ: regression loss curves",
                                       chart="reg_chart"),
    "pages/7_Models_on_Data.py": Probe("noise", "contour", "data noise: new data set, its landscape",
                                       chart="data_contour"),
    "pages/8_Neural_Net_Landscape.py": Probe("step", "contour", "step shown: PCA plane marker (training "
                                             "cached)", nth=1, chart="nn_plane"),
    BASELINE.path: Probe("frequency", "scatter", "frequency: one line"),
}
# Presses timed to every figure updated, a few each: the neural-net page retrains on a training setting.
RETRAIN_PROBES: dict[str, Probe] = {
    "pages/8_Neural_Net_Landscape.py": Probe("width", "scatter", "units per layer: retrain, every figure"),
}

# One step of a live chart's scrubber, timed inside its frame: from the input event to Plotly.restyle
# resolved (the frame's dataset.scrubbed), and the page's WebSocket messages sent meanwhile (none
# should be: the positions are precomputed).
SCRUB = r"""
async ([steps]) => {
  const frames = [...document.querySelectorAll('iframe')].map(f => { try { return f.contentDocument; }
    catch (e) { return null; } }).filter(d => d && d.getElementById('scrub')
      && d.getElementById('scrub').style.display === 'flex');
  if (!frames.length) return null;
  const doc = frames[0], input = doc.getElementById('scrub-input'), plot = doc.getElementById('plot');
  const view = doc.defaultView, max = Number(input.max), sentBefore = window.__lv.sent.length, times = [];
  for (let i = 0; i < steps; i++) {
    const target = (Number(input.value) + 1) % (max + 1);
    const before = plot.dataset.scrubbed || '';
    const start = view.performance.now();
    input.value = String(target);
    input.dispatchEvent(new view.Event('input'));
    while ((plot.dataset.scrubbed || '') === before) await new Promise(r => view.requestAnimationFrame(r));
    times.push(Number(plot.dataset.scrubbed) - start);
  }
  return {times, sent: window.__lv.sent.length - sentBefore,
          label: doc.querySelector('#scrub label').textContent};
}
"""

RERUNNING = 2  # ForwardMsg.script_finished FINISHED_EARLY_FOR_RERUN: a run the server starts again itself

# Installed before any page script: times every WebSocket message in and out, every key press, and
# defines a signature of a figure (its traces' values and its layout's shapes and annotations).
# Defines window.__lvPlots(): every drawn, current (not stale) chart in page order, Streamlit's own and the
# live charts (lossviz.ui.live_plotly), which sit in same-origin component frames. Tests add it too.
PLOTS_SCRIPT = r"""
(() => {
  window.__lvPlots = () => {
    const found = [];
    for (const el of document.querySelectorAll('.js-plotly-plot, iframe')) {
      if (el.closest('[data-stale="true"]')) continue;
      if (el.tagName !== 'IFRAME') { found.push(el); continue; }
      let doc = null;
      try { doc = el.contentDocument; } catch (e) { doc = null; }
      if (doc) found.push(...doc.querySelectorAll('.js-plotly-plot'));
    }
    return found.filter(gd => gd._fullData && gd._fullData.length && gd._fullLayout);
  };
})();
"""

INIT_SCRIPT = r"""
(() => {
  window.__lv = {sent: [], recv: [], keyAt: 0};
  const Native = window.WebSocket;
  class Timed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => window.__lv.recv.push(performance.now()));
    }
    send(data) { window.__lv.sent.push(performance.now()); return super.send(data); }
  }
  window.WebSocket = Timed;
  window.addEventListener('keydown', () => { window.__lv.keyAt = performance.now(); }, {capture: true});
  // The nth current chart whose first trace is of this type.
  window.__lvFigure = (type, nth) => window.__lvPlots().filter(gd => gd._fullData[0].type === type)[nth];
  // The live chart with this key (its frame's plot carries it), or the nth chart of this type.
  window.__lvProbe = (type, nth, key) => key
    ? window.__lvPlots().find(gd => gd.dataset.key === key) : window.__lvFigure(type, nth);
  window.__lvSig = (type, nth, key) => {
    const gd = window.__lvProbe(type, nth, key);
    if (!gd) return '';
    let sum = 0, count = 0;
    const add = (v) => {
      if (typeof v === 'number') { if (Number.isFinite(v)) sum += v * ((count % 97) + 1); count++; }
      else if (v && typeof v === 'object' && typeof v.length === 'number') { for (const w of v) add(w); }
    };
    const words = [];
    for (const t of gd._fullData) {
      words.push(t.type, t.name || '', String(t.visible));
      for (const k of ['x', 'y', 'z', 'text']) { if (t[k] && typeof t[k] !== 'string') add(t[k]); }
    }
    for (const s of gd._fullLayout.shapes || []) add([s.x0, s.x1, s.y0, s.y1]);
    for (const a of gd._fullLayout.annotations || []) { words.push(a.text || ''); add([a.x, a.y]); }
    return words.join('|') + '#' + count + '#' + sum.toPrecision(15);
  };
})();
"""
INIT_SCRIPT += PLOTS_SCRIPT

# True once the script run is over and the page has not changed for `quiet` ms; window.__lvSince is the
# time (ms since navigation) of the last change, i.e. when the page finished drawing.
SETTLED = r"""
(quiet) => {
  // The app's script state says whether a run is going on (the status widget is hidden in the minimal
  // toolbar); a skeleton is a widget whose code is still loading.
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app || app.getAttribute('data-test-script-state') !== 'notRunning'
    || document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]');
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  // Live charts (in component frames) count once drawn, and again each time they take a new figure.
  const plots = window.__lvPlots ? window.__lvPlots() : [...document.querySelectorAll('.js-plotly-plot')];
  const drawn = plots.filter(p => p._fullData && p.querySelector('.main-svg'));
  // A live chart holding a figure it has not drawn yet (a 3-D view waits for the settings to rest).
  const pending = plots.some(p => p.dataset.pending);
  const revisions = drawn.map(p => p.dataset.revision || '').join(',');
  // Cheap to read every frame (innerText would force a layout and show up in the profile).
  const state = main ? [document.getElementsByTagName('*').length, plots.length, drawn.length,
                        revisions].join(':') : '';
  const now = performance.now();
  if (busy || pending || !main || !main.childElementCount || state !== window.__lvState) {
    window.__lvState = state; window.__lvSince = now; return false;
  }
  return now - window.__lvSince > quiet;
}
"""

PRESS = r"""
([type, nth, key, before, timeout]) => new Promise((resolve, reject) => {
  const start = performance.now();
  const tick = () => {
    const sig = window.__lvSig(type, nth, key);
    if (sig !== before && sig !== '') {
      const now = performance.now(), key = window.__lv.keyAt;
      const sent = window.__lv.sent.filter(t => t >= key);
      const recv = window.__lv.recv.filter(t => t >= key && t <= now);
      resolve({total: now - key, sent: sent.length ? sent[0] - key : null,
               lastRecv: recv.length ? recv[recv.length - 1] - key : null});
      return;
    }
    if (performance.now() - start > timeout) {
      reject('figure did not change within ' + timeout + ' ms'); return;
    }
    requestAnimationFrame(tick);
  };
  tick();
})
"""


def rerun_message(page_name: str, script_hash: str = "", widget_id: str = "", value: float | None = None,
                  query: str = "", fragment_id: str = "") -> "BackMsg":  # noqa: F821 (protobuf: slow to load)
    """The message a browser sends to rerun ``page_name``: with ``widget_id``, after a slider moved to
    ``value``; with ``query``, as opened through a link carrying it; with ``fragment_id``, the fragment
    (``st.fragment``) that drew the slider, which a browser reruns alone."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.query_string = query
    message.rerun_script.page_name = page_name
    message.rerun_script.page_script_hash = script_hash
    message.rerun_script.fragment_id = fragment_id
    if widget_id:
        state = message.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        state.double_array_value.data[:] = [value]
    return message


def element_figure(element) -> dict | None:
    """The figure a Streamlit element (a ``new_element`` delta) carries: an ``st.plotly_chart`` spec or a
    live chart's (lossviz.ui.live_plotly), as a dict; None for any other element."""
    kind = element.WhichOneof("type")
    if kind == "plotly_chart":
        return json.loads(element.plotly_chart.spec)
    if kind == "component_instance" and element.component_instance.component_name.endswith(LIVE_CHART):
        return expand(json.loads(json.loads(element.component_instance.json_args)["spec"]))
    return None


def probe_figure(element, probe: "Probe", seen: int) -> tuple[bool, int]:
    """Whether a ``new_element`` delta carries ``probe``'s figure, and the count of figures of the probe's
    type seen so far (``seen`` before this element): by the live chart's key when the probe names one,
    else the ``nth`` figure of its type."""
    figure = element_figure(element)
    if figure is None:
        return False, seen
    if probe.chart:
        args = json.loads(element.component_instance.json_args) \
            if element.WhichOneof("type") == "component_instance" else {}
        return args.get("key") == probe.chart, seen
    if (figure.get("data") or [{}])[0].get("type", "scatter") != probe.figure_type:
        return False, seen
    return seen == probe.nth, seen + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path | None = None,
                 extra_args: list[str] | None = None, script: str = "app.py") -> subprocess.Popen:
    """The app on ``port`` as ``make run`` and docs/DEPLOYMENT.md start it (``python -m lossviz app``, which
    warms the lessons' imports at server start), or ``streamlit run script`` for another script (the
    baseline page; with TCP_NODELAY too); output to ``log_path`` (or discarded); returns once healthy."""
    log = log_path.open("w") if log_path else subprocess.DEVNULL
    options = ["--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats",
               "false", *(extra_args or [])]
    # Another script is served as lossviz is: with TCP_NODELAY (lossviz.ui.server.send_without_delay), so the
    # baseline does not pay 40 ms a rerun that the app no longer pays.
    command = ["-m", "lossviz", "app", "--port", str(port), "--", *options] if script == "app.py" else \
        ["-c", "import sys; from lossviz.ui.server import send_without_delay; send_without_delay(); "
         "from streamlit.web.cli import main; sys.exit(main())",
         "run", script, "--server.port", str(port), *options]
    proc = subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if wait_healthy(f"http://127.0.0.1:{port}", proc, 90,
                    lambda: f"streamlit exited with code {proc.returncode}"):
        return proc
    proc.kill()
    raise RuntimeError("streamlit did not become healthy")


def wait_healthy(base_url: str, proc: subprocess.Popen, seconds: float, exited: Callable[[], str]) -> bool:
    """Wait until ``base_url``/_stcore/health answers ok (True) or ``seconds`` pass (False); raise with
    ``exited()`` if ``proc`` ends meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(exited())
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                if answer.read().decode().strip() == "ok":
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def settle(page, quiet_ms: int = 600, timeout_ms: int = 120_000) -> float:
    """Wait for the script run to end and the page to stay still; return the time of its last change (s
    since navigation)."""
    page.wait_for_function(SETTLED, arg=quiet_ms, timeout=timeout_ms, polling="raf")
    return page.evaluate("() => window.__lvSince") / 1000


def _slider(page, key: str):
    locator = page.locator(f'.st-key-{key} input[type="range"]')
    return locator.first if locator.count() else None


def _signature(page, probe: Probe) -> str:
    return page.evaluate("([type, nth, key]) => window.__lvSig(type, nth, key)",
                         [probe.figure_type, probe.nth, probe.chart])


async def _server_share(base_url: str, info: PageInfo, probe: Probe, presses: int,
                        start: float | None = None) -> list[float]:
    """The server's share of a press, without a browser: Streamlit's own WebSocket protocol, the same
    rerun request a browser sends when the probe's slider moves one step (to a new value), timed to the
    arrival of the message that carries the probe's figure. In ms, one per press. The walk starts at
    ``start`` (where the browser left the slider), so its values are new to the server's caches too."""

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def run(ws, message: BackMsg) -> tuple[float | None, dict]:
        sent, arrived, seen, facts = time.monotonic(), None, 0, {}
        await ws.send(message.SerializeToString())
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=120))
            # The page's script (the first messages carry the entry script's): a fragment is the page's.
            facts["hash"] = reply.metadata.active_script_hash or facts.get("hash", "")
            kind = reply.WhichOneof("type")
            # A run ended early for a rerun the server starts itself (the entry point handing over to the
            # page; a fragment rerunning the whole page) is not the end: its rerun follows.
            if kind == "script_finished" and reply.script_finished != RERUNNING:
                return arrived, facts
            if kind != "delta" or reply.delta.WhichOneof("type") != "new_element":
                continue
            element = reply.delta.new_element
            if element.WhichOneof("type") == "slider" and element.slider.id.endswith(f"-{probe.slider_key}"):
                facts["slider"], facts["fragment"] = element.slider, reply.delta.fragment_id
            elif arrived is None:
                found, seen = probe_figure(element, probe, seen)
                if found:
                    arrived = 1000 * (time.monotonic() - sent)

    def rerun(script_hash: str = "", widget_id: str = "", value: float | None = None) -> BackMsg:
        # A slider drawn by a fragment reruns that fragment alone, as in the browser.
        return rerun_message(info.url_path, script_hash, widget_id, value,
                             fragment_id=facts.get("fragment", "") if widget_id else "")

    url = base_url.replace("http", "ws", 1) + "/_stcore/stream"
    shares: list[float] = []
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
        _, facts = await run(ws, rerun())
        slider = facts.get("slider")
        if slider is None:
            return shares
        step, low, high = slider.step or 1, slider.min, slider.max
        value = slider.value[0] if start is None else start
        for _ in range(presses + WARMUP_PRESSES):
            # New values: up to the end, then on from the bottom of the range.
            value = value + step if value + step <= high + 1e-9 else low
            share, _ = await run(ws, rerun(facts["hash"], slider.id, value))
            if share is not None:
                shares.append(share)
    return shares[WARMUP_PRESSES:]


def measure_page(page, base_url: str, info: PageInfo, probe: Probe | None, interactions: int,
                 server_pid: int, url: str | None = None) -> dict:
    """Open ``info``'s page in ``page`` and measure it (see the module docstring)."""
    row: dict = {"page": info.title, "path": info.path, "probe": probe, "note": ""}
    page.goto(url or f"{base_url}/{info.url_path}")
    row["first_render_s"] = settle(page)
    row["figures"] = page.evaluate("() => window.__lvPlots().length")
    if page.locator('[data-testid="stException"]').count():
        row["note"] = "the page shows an exception"
        return row
    slider = _slider(page, probe.slider_key) if probe else None
    if probe is None or slider is None:
        row["note"] = "no probe yet: first render only" if probe is None else \
            f"slider {probe.slider_key!r} not on the page: first render only"
        row["probe"] = None
        return row
    if _signature(page, probe) == "":
        row["note"] = f"no {probe.figure_type} figure #{probe.nth + 1} on the page: first render only"
        row["probe"] = None
        return row

    samples, cpu_start, wrapped = [], cpu_seconds(server_pid), False
    for press in range(interactions + WARMUP_PRESSES):
        at_end = float(slider.input_value()) >= float(slider.get_attribute("max"))
        if at_end and not wrapped:
            # Jump to the start of the range (not counted), then walk up through values below the default,
            # which no press has shown yet.
            slider.focus()
            page.keyboard.press("Home")
            settle(page, quiet_ms=150)
            wrapped, at_end = True, False
        before = _signature(page, probe)
        slider.focus()
        page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
        timing = page.evaluate(PRESS, [probe.figure_type, probe.nth, probe.chart, before, 60_000])
        settle(page, quiet_ms=150)
        if press >= WARMUP_PRESSES:
            samples.append(timing)
    cpu = cpu_seconds(server_pid) - cpu_start
    # The server's share, measured apart: in the browser, a page busy drawing (a 3-D view in software
    # WebGL) delays even the network's reading of the next message, so the browser cannot time it.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        shares = pool.submit(asyncio.run, _server_share(base_url, info, probe, interactions,
                                                        float(slider.input_value()))).result()
    total = np.array([s["total"] for s in samples])
    row.update(p50_ms=float(np.percentile(total, 50)), p95_ms=float(np.percentile(total, 95)), n=total.size,
               server_cpu_ms=1000 * cpu / (interactions + WARMUP_PRESSES))
    scrub = page.evaluate(SCRUB, [SCRUB_STEPS])
    if scrub:
        row.update(scrub_p50_ms=float(np.median(scrub["times"])), scrub_sent=scrub["sent"],
                   scrub_label=scrub["label"])
    retrain = RETRAIN_PROBES.get(info.path)
    if retrain is not None and _slider(page, retrain.slider_key) is not None:
        row["retrain_s"], row["retrain_settled_s"] = _retrain_presses(page, retrain, 3)
    clients = [s["sent"] for s in samples if s["sent"] is not None]
    if clients and shares:
        row["client_ms"] = float(np.median(clients))
        row["server_ms"] = float(np.median(shares))
        row["server_p95_ms"] = float(np.percentile(shares, 95))
        row["render_ms"] = row["p50_ms"] - row["client_ms"] - row["server_ms"]
    return row


# Every drawn live chart's count of draws, by key (a chart waiting for its closed tab is left out: it draws
# when the tab opens).
DRAWS = r"""
() => {
  const out = {};
  for (const frame of document.querySelectorAll('iframe')) {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { continue; }
    const plot = doc && doc.getElementById('plot');
    if (plot && plot.dataset.key && !plot.dataset.unseen) {
      out[plot.dataset.key] = Number(plot.dataset.draws || 0);
    }
  }
  return out;
}
"""
# Resolves when every chart of ``before`` (DRAWS) has drawn again, with the seconds since the last key press
# (null after a minute).
ALL_REDRAWN = r"""
(before) => new Promise((resolve) => {
  const draws = """ + DRAWS.strip() + r""";
  const started = performance.now();
  const check = () => {
    const now = draws();
    if (Object.entries(before).every(([key, n]) => (now[key] || 0) > n)) {
      resolve((performance.now() - window.__lv.keyAt) / 1000);
    } else if (performance.now() - started > 60000) {
      resolve(null);
    } else {
      requestAnimationFrame(check);
    }
  };
  check();
})
"""


def _retrain_presses(page, probe: Probe, presses: int) -> tuple[float, float]:
    """Median seconds from a key press on ``probe``'s slider to every chart of the page drawn again, and to
    the page's last change (the Neural net page then refines its views and draws them once more).

    Each press moves the slider up, to a value the page has not computed yet: a value seen before would be
    a cache hit (an earlier version alternated up and down, so two presses of three were, and measured
    0.6 s for what takes several times that).
    """
    first, last = [], []
    for _ in range(presses):
        slider = _slider(page, probe.slider_key)
        before = page.evaluate(DRAWS)
        slider.focus()
        page.keyboard.press("ArrowRight")
        redrawn = page.evaluate(ALL_REDRAWN, before)
        first.append(float("nan") if redrawn is None else redrawn)
        deadline = time.monotonic() + 60
        while True:  # the page may look settled for a moment after the key, before the refinement begins
            settle(page, quiet_ms=800)
            seconds = page.evaluate("() => (window.__lvSince - window.__lv.keyAt) / 1000")
            if seconds >= first[-1] or time.monotonic() > deadline:
                break
        last.append(seconds)
    return float(np.median(first)), float(np.median(last))


def run_benchmark(interactions: int = 30, pages: list[str] | None = None) -> dict:
    """Measure every existing page (or those whose url path is in ``pages``) on a fresh server."""
    from playwright.sync_api import sync_playwright

    chosen = [p for p in PAGES if p.exists and (not pages or p.url_path in pages)]
    skipped = [p.title for p in PAGES if not p.exists]
    port = _free_port()
    load_before = load_average()
    server = start_server(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            rows = []
            for info in chosen:
                # A fresh context per page: each page is measured as a newly arrived student sees it.
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(INIT_SCRIPT)
                page = context.new_page()
                try:
                    rows.append(measure_page(page, f"http://127.0.0.1:{port}", info, PROBES.get(info.path),
                                             interactions, server.pid))
                except Exception as exc:  # one broken page must not hide the others' figures
                    rows.append({"page": info.title, "path": info.path, "probe": None,
                                 "note": f"measurement failed: {str(exc).splitlines()[0][:120]}"})
                finally:
                    context.close()
                print(_row_text(rows[-1]), flush=True)
            memory = resident_mb(server.pid)
            # The baseline, on a server of its own, measured the same way in the same run.
            base_port = _free_port()
            base_server = start_server(base_port, script=BASELINE.path)
            try:
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(INIT_SCRIPT)
                baseline = measure_page(context.new_page(), f"http://127.0.0.1:{base_port}", BASELINE,
                                        PROBES[BASELINE.path], interactions, base_server.pid,
                                        url=f"http://127.0.0.1:{base_port}/")
                context.close()
            finally:
                stop_server(base_server)
            print(_row_text(baseline), flush=True)
            browser.close()
    finally:
        stop_server(server)
    return {"rows": rows, "baseline": baseline, "memory_mb": memory, "interactions": interactions,
            "not_written": skipped, "load_before": load_before, "load_after": load_average(), "pages": pages}


def _row_text(row: dict) -> str:
    if row.get("p50_ms") is None:
        return f"{row['page']}: first render {row.get('first_render_s', float('nan')):.2f} s ({row['note']})"
    extra = f", scrub p50 {row['scrub_p50_ms']:.1f} ms" if row.get("scrub_p50_ms") is not None else ""
    extra += f", retrain {row['retrain_s']:.2f} s" if row.get("retrain_s") is not None else ""
    return (f"{row['page']}: first render {row['first_render_s']:.2f} s, p50 {row['p50_ms']:.0f} ms, "
            f"p95 {row['p95_ms']:.0f} ms, server CPU {row['server_cpu_ms']:.0f} ms/press{extra}")


def render(result: dict) -> str:
    def verdict(value, target):
        return "met" if value <= target else "**missed**"

    def ms(row, key):
        return f"{row[key]:.0f}" if row.get(key) is not None else "—"

    base = result.get("baseline") or {}
    base_p50 = base.get("p50_ms")
    command = f"python -m bench.browser --interactions {result['interactions']}"
    if result.get("pages"):
        command += " --pages " + " ".join(result["pages"])
    lines = [
        BEGIN,
        "## Browser: first render, key press to updated figure, scrubber step",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}` on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, headless Debian chromium on the same machine as the server, "
        "default settings of each page, one fresh browser context per page. "
        f"**Load average (1 / 5 / 15 min): {result['load_before']} before, {result['load_after']} after.**",
        "",
        f"Latency runs from the key event to the browser's figure data showing the new value (the chart is "
        "found by its key, each press starting from a settled page: every chart drawn, no 3-D redraw "
        f"pending); {result['interactions']} presses per page after {WARMUP_PRESSES} uncounted ones, each "
        "to a slider value not shown before (so each is a real rerun, not a cache hit). The p50 is split "
        "into client = "
        "key to the rerun request sent; server = median time from the same rerun request to the message "
        "carrying the figure, measured with a drawing-free protocol client after the browser's presses "
        "(p95 in brackets); render = the rest (the page's main thread: React and Plotly; headless chromium "
        "draws WebGL in software, so 3-D figures cost far more here than on a laptop's GPU). "
        f"**Baseline**: a trivial one-figure Streamlit page (`{BASELINE.path}`: a slider and "
        "`st.plotly_chart` of one line) on its own server (with TCP_NODELAY, as the app's), measured the "
        "same way in the same run"
        + (f": p50 {base_p50:.0f} ms, p95 {base.get('p95_ms', float('nan')):.0f} ms." if base_p50 else ".")
        + f" Scrub = one step of the page's client-side scrubber ({SCRUB_STEPS} steps, from the input event "
        "to Plotly.restyle resolved in the chart's frame; `sent` = WebSocket messages the page sent "
        "meanwhile). "
        f"Targets: p50 <= {TARGET_P50_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms and p50 <= "
        f"{TARGET_BASELINE_RATIO:g} x the baseline's; scrub p50 <= {TARGET_SCRUB_MS:.0f} ms; first render <= "
        f"{TARGET_FIRST_RENDER_S:g} s; the neural-net page's retrain <= {TARGET_RETRAIN_S:g} s.",
        "",
        "| page | first render (s) | slider: what it redraws | p50 (ms) | p95 (ms) | × baseline | client / "
        "server (p95) / render (ms) | server CPU per press (ms) | scrub p50 (ms), sent | n | targets |",
        "|---|---:|---|---:|---:|---:|---|---:|---|---:|---|",
    ]
    for r in [*result["rows"], *([base] if base else [])]:
        first = f"{r['first_render_s']:.2f}" if r.get("first_render_s") is not None else "—"
        if r.get("p50_ms") is None:
            lines.append(f"| {r['page']} | {first} | {r['note']} | — | — | — | — | — | — | — | — |")
            continue
        ratio = r["p50_ms"] / base_p50 if base_p50 else float("nan")
        met = [verdict(r["p50_ms"], TARGET_P50_MS), verdict(r["p95_ms"], TARGET_P95_MS)]
        if r is not base and base_p50:
            met.append(verdict(ratio, TARGET_BASELINE_RATIO))
        if r.get("first_render_s") is not None:
            met.append(verdict(r["first_render_s"], TARGET_FIRST_RENDER_S))
        scrub = "—"
        if r.get("scrub_p50_ms") is not None:
            scrub = f"{r['scrub_p50_ms']:.1f}, {r['scrub_sent']}"
            met.append(verdict(r["scrub_p50_ms"], TARGET_SCRUB_MS))
        what = f"`{r['probe'].slider_key}`: {r['probe'].what}"
        if r.get("retrain_s") is not None:
            what += (f"; retrain (`width` up to a new value, every figure drawn again): "
                     f"**{r['retrain_s']:.2f} s**, refined and settled {r['retrain_settled_s']:.2f} s")
            met.append(verdict(r["retrain_s"], TARGET_RETRAIN_S))
        lines.append(
            f"| {r['page']} | {first} | {what} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{ratio:.2f} | {ms(r, 'client_ms')} / {ms(r, 'server_ms')} ({ms(r, 'server_p95_ms')}) / "
            f"{ms(r, 'render_ms')} | {r['server_cpu_ms']:.0f} | {scrub} | {r['n']} | {' / '.join(met)} |"
        )
    lines += ["", f"Server resident memory after all pages: {result['memory_mb']:.0f} MB."]
    if result["not_written"]:
        lines.append(f"Pages not written yet (not measured): {', '.join(result['not_written'])}.")
    lines.append(END)
    return "\n".join(lines)


def write_block(block: str, output: Path, begin: str = BEGIN, end: str = END) -> None:
    """Replace this block's section of ``output`` (or append it), leaving the rest (:mod:`bench.report`)."""
    name = begin.removeprefix("<!-- ").removesuffix(":begin -->")
    report.write_section(output, name, block.replace(begin, "").replace(end, ""))


def profile_server(url_path: str, presses: int = 10, top: int = 25) -> str:
    """Where a page's rerun spends its time on the server: cProfile of ``presses`` reruns in AppTest,
    each moving the probe's slider one step (new values), sorted by cumulative time."""
    import cProfile
    import io
    import pstats

    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    info = next(p for p in PAGES if p.url_path == url_path)
    probe = PROBES.get(info.path)
    profiler = cProfile.Profile()
    original = script_runner.exec_func_with_error_handling
    profiling = {"on": False}

    def profiled(func, ctx):
        # The script runs in AppTest's own thread: profile it there, only while asked.
        if not profiling["on"]:
            return original(func, ctx)
        profiler.enable()
        try:
            return original(func, ctx)
        finally:
            profiler.disable()

    script_runner.exec_func_with_error_handling = profiled
    try:
        at = AppTest.from_file(str(ROOT / info.path), default_timeout=300).run()
        at.run()  # warm: modules imported, per-session state made
        slider = at.slider(key=probe.slider_key) if probe else None
        started = time.perf_counter()
        profiling["on"] = True
        for _ in range(presses):
            if slider is not None:
                value = slider.value + slider.step if slider.value + slider.step <= slider.max else slider.min
                slider.set_value(type(slider.value)(value))
            at.run()
            slider = at.slider(key=probe.slider_key) if probe else None
        profiling["on"] = False
        wall = (time.perf_counter() - started) / presses
    finally:
        script_runner.exec_func_with_error_handling = original
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    return (f"{info.title}: {presses} reruns moving {probe.slider_key if probe else '(no slider)'}, "
            f"{1000 * wall:.0f} ms per rerun in AppTest (wall)\n" + out.getvalue())


def profile_browser(url_path: str, presses: int = 8, top: int = 15) -> str:
    """Where the browser spends a page's key-press-to-figure time: a Chrome CPU profile of ``presses``
    presses of the probe's slider, self time summed by script (Streamlit, Plotly, ...) and by function."""
    from collections import Counter

    from playwright.sync_api import sync_playwright

    info = next(p for p in PAGES if p.url_path == url_path)
    probe = PROBES[info.path]
    port = _free_port()
    server = start_server(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(INIT_SCRIPT)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/{info.url_path}")
            settle(page)
            slider = _slider(page, probe.slider_key)
            cdp = context.new_cdp_session(page)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            cdp.send("Profiler.start")
            started = time.perf_counter()
            for _ in range(presses):
                before = _signature(page, probe)
                slider.focus()
                page.keyboard.press("ArrowRight")
                page.evaluate(PRESS, [probe.figure_type, probe.nth, probe.chart, before, 60_000])
                settle(page, quiet_ms=150)
            wall = time.perf_counter() - started
            profile = cdp.send("Profiler.stop")["profile"]
            browser.close()
    finally:
        stop_server(server)
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile.get("timeDeltas", [])
    by_script, by_function = Counter(), Counter()
    for node_id, delta in zip(profile.get("samples", []), deltas):
        frame = nodes[node_id]["callFrame"]
        native = frame["functionName"] or "native"
        script = frame["url"].rsplit("/", 1)[-1] or (native if native.startswith("(") else f"({native})")
        by_script[script] += delta / 1000
        by_function[f"{frame['functionName'] or '(anonymous)'} [{script}]"] += delta / 1000
    busy = sum(v for k, v in by_script.items() if k != "(idle)")  # (program) is the browser's own work
    lines = [f"{info.title}: {presses} presses of {probe.slider_key}, {1000 * wall / presses:.0f} ms each "
             f"including settling; main-thread busy {busy / presses:.0f} ms per press", "",
             "self time by script:"]
    lines += [f"  {ms / presses:8.1f} ms/press  {name}" for name, ms in by_script.most_common(top)]
    lines += ["", "self time by function:"]
    lines += [f"  {ms / presses:8.1f} ms/press  {name}" for name, ms in by_function.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=30, help="counted key presses per page (>= 20)")
    parser.add_argument("--pages", nargs="*", help="url paths to measure (default: every page that exists)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--profile-server", metavar="URL_PATH",
                        help="instead of the benchmark: profile that page's reruns on the server (cProfile)")
    parser.add_argument("--profile-browser", metavar="URL_PATH",
                        help="instead of the benchmark: profile that page's key presses in chromium")
    args = parser.parse_args(argv)
    if args.profile_browser:
        print(profile_browser(args.profile_browser))
        return
    if args.profile_server:
        print(profile_server(args.profile_server))
        return
    result = run_benchmark(args.interactions, args.pages)
    block = render(result)
    print(block)
    if not args.no_write:
        write_block(block, args.output)


if __name__ == "__main__":
    main()

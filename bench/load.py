"""Load: many browser sessions on one server, each changing settings on the Surface Explorer.

    python -m bench.load                          # 20 sessions x 60 s, results into docs/BENCHMARKS.md
    python -m bench.load --sweep 1 2 5 10 20 --duration 30    # latency against the number of sessions
    python -m bench.load --url http://host:8501   # against a server started elsewhere (no memory/log)

Each session is its own Playwright context (its own cookies, its own Streamlit session) and opens the
Explorer on a link with **its own start point** ``x0``. It then presses the steps slider's arrow key to a
new value, waits for the contour map to redraw, checks the figure it got, thinks for a moment
(``--think`` seconds, jittered), and again, until the time is up. A figure is correct when the first
optimizer's path starts at this session's own ``x0`` (any other start is another session's state leaking
in) and has ``steps + 1`` points for the steps this session's slider shows. The run also reports latency
(key press to figure redrawn) p50 / p95, the server's resident memory over time, its CPU time per rerun,
the browsers' CPU time (they share the machine with the server here), and any error in the server's log.

A short version of the same run is a test: tests/e2e/test_concurrency.py.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import platform
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import nginx, report
from lossviz.ui.catalog import PAGES, PageInfo
from bench.browser import (CHROMIUM, FLAGS, INIT_SCRIPT, PROBES, RERUNNING, ROOT, SETTLED, _free_port,
                           cpu_seconds, element_figure, load_average, probe_figure, rerun_message,
                           resident_mb, start_server, stop_server, write_block)

PAGE = "Surface_Explorer"
FIRST_STEPS = 30
P95_LIMIT_MS = 1000.0
REDRAW_TIMEOUT_S = 60.0
# The browsers run on the server's own two cores here: without WebGL (the Explorer's 3-D view is drawn
# only in the browser; the server builds and sends it all the same) twenty of them fit next to it.
LIGHT_BROWSER = ["--disable-webgl", "--disable-3d-apis"]
VIEWPORT = {"width": 1280, "height": 800}
# Lines in the server log that mean something went wrong (Streamlit logs an uncaught script error with
# its traceback; tornado logs a failed websocket or request as an ERROR/Exception line).
LOG_ERROR = re.compile(r"Traceback|Exception|\bERROR\b|\bError\b")

# Resolves once the first path on the contour map has this session's start and the expected number of
# points; any path seen meanwhile that starts elsewhere is another session's state, reported as a leak.
WAIT_FOR_OWN_PATH = r"""
([startX, points, timeout]) => new Promise(resolve => {
  const key = window.__lv.keyAt, begun = performance.now(), foreign = new Set();
  const tick = () => {
    const gd = window.__lvFigure('contour', 0);
    const t = gd ? gd._fullData.find(t => t.name && t.name.startsWith('1. ')) : null;
    if (t && Math.abs(t.x[0] - startX) > 1e-9) foreign.add(String(t.x[0]));
    else if (t && t.x.length === points) {
      resolve({total: performance.now() - key, foreign: [...foreign]}); return;
    }
    if (performance.now() - begun > timeout) {
      resolve({total: null, foreign: [...foreign], last: t ? t.x.length : null}); return;
    }
    setTimeout(tick, 20);  // not every frame: twenty pages polling per frame would load the cores
  };
  tick();
})
"""


def session_start(index: int) -> float:
    """A start x that no other session of the run shares (one decimal, so the link carries it exactly)."""
    return round(-2.9 + 0.1 * (index % 40), 1) + (index // 40) * 0.05


@dataclass
class SessionResult:
    index: int
    start_x: float
    open_s: float = float("nan")  # link opened to page drawn, with the whole class arriving at once
    opened_at: float = float("inf")  # time.monotonic() when the page was drawn
    pressed_at: list[float] = field(default_factory=list)  # time.monotonic() of each counted redraw's press
    latencies_ms: list[float] = field(default_factory=list)
    checked: int = 0
    leaks: list[str] = field(default_factory=list)  # a figure showing another session's state
    wrong: list[str] = field(default_factory=list)  # a figure not matching this session's own slider
    errors: list[str] = field(default_factory=list)  # a session that failed, an exception on the page
    timeouts: int = 0  # moves whose figure did not arrive within REDRAW_TIMEOUT_S (slow, not wrong)


async def _settle(page, quiet_ms: int, timeout_ms: int = 300_000) -> None:
    await page.wait_for_function(SETTLED, arg=quiet_ms, timeout=timeout_ms, polling=50)


async def run_session(browser, base_url: str, index: int, duration_s: float, think_s: float,
                      seed: int = 0, min_redraws: int = 0) -> SessionResult:
    """One student: open the link with its own start, then change the steps for ``duration_s`` seconds
    (and at least ``min_redraws`` times, however slow the machine)."""
    rng = np.random.default_rng([seed, index])
    result = SessionResult(index, session_start(index))
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(INIT_SCRIPT)
    page = await context.new_page()
    try:
        opened = time.monotonic()
        await page.goto(f"{base_url}/{PAGE}?x0={result.start_x!r}&y0=2.0&steps={FIRST_STEPS + index}")
        await _settle(page, 300)
        result.opened_at = time.monotonic()
        result.open_s = result.opened_at - opened
        if await page.locator('[data-testid="stException"]').count():
            result.errors.append("exception shown on the page")
        deadline = time.monotonic() + duration_s
        slider = page.locator('.st-key-steps input[type="range"]')
        while time.monotonic() < deadline or result.checked < min_redraws:
            steps = int(float(await slider.input_value()))
            pressed = time.monotonic()
            await slider.focus()
            await page.keyboard.press("ArrowRight")
            expected = min(steps + 1, int(float(await slider.get_attribute("max"))))
            shown = await page.evaluate(WAIT_FOR_OWN_PATH,
                                        [result.start_x, expected + 1, 1000 * REDRAW_TIMEOUT_S])
            result.checked += 1
            result.leaks += [f"a path starting at x={x} in the session that set x={result.start_x}"
                             for x in shown["foreign"]]
            if shown["total"] is None:
                result.timeouts += 1
            else:
                result.latencies_ms.append(shown["total"])
                result.pressed_at.append(pressed)
            await _settle(page, 100)
            if int(float(await slider.input_value())) != expected:
                result.wrong.append(f"slider at {await slider.input_value()} after pressing from {steps}")
            if await page.locator('[data-testid="stException"]').count():
                result.errors.append("exception shown on the page")
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
    except Exception as exc:
        result.errors.append(f"session failed: {str(exc).splitlines()[0][:120]}")
    finally:
        await context.close()
    return result


def _plotly_values(array) -> np.ndarray:
    """A trace's x or y as Plotly's JSON holds it: a list, or base64 ``{"dtype", "bdata"}``."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.asarray(array, dtype=float)


async def _protocol_run(ws, back_msg, result: SessionResult) -> tuple[float | None, dict]:
    """Send one rerun request; read the run's messages until it finishes.

    Returns (seconds from the request to the contour map's arrival, facts about the run): the steps
    slider's widget id, the page's script hash and the first path's start and length.
    """
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    sent, arrived, facts = time.monotonic(), None, {}
    await ws.send(back_msg.SerializeToString())
    while True:
        message = ForwardMsg()
        message.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=60))
        facts["script_hash"] = message.metadata.active_script_hash or facts.get("script_hash", "")
        kind = message.WhichOneof("type")
        if kind == "script_finished" and message.script_finished != RERUNNING:
            return arrived, facts
        if kind != "delta" or message.delta.WhichOneof("type") != "new_element":
            continue
        element = message.delta.new_element
        element_type = element.WhichOneof("type")
        if element_type == "exception":
            result.errors.append(f"exception on the page: {element.exception.message[:100]}")
        elif element_type == "slider" and element.slider.label == "steps":
            facts["slider_id"], facts["fragment"] = element.slider.id, message.delta.fragment_id
        elif arrived is None and (spec := element_figure(element)) is not None:
            if spec.get("data") and spec["data"][0].get("type") == "contour":
                arrived = time.monotonic() - sent
                path = next((t for t in spec["data"] if str(t.get("name", "")).startswith("1. ")), None)
                if path is not None:
                    xs = _plotly_values(path["x"])
                    facts["path"] = {"x0": float(xs[0]), "points": int(xs.size)}


async def run_protocol_session(base_url: str, index: int, duration_s: float, think_s: float,
                               seed: int = 0, min_redraws: int = 0, balanced: bool = False) -> SessionResult:
    """The same student as :func:`run_session`, speaking Streamlit's WebSocket protocol instead of
    driving a browser: it measures the server alone (request to contour map received), without the
    browsers' rendering competing for the same cores."""
    import websockets

    rng = np.random.default_rng([seed, index])
    result = SessionResult(index, session_start(index))
    steps = FIRST_STEPS + index
    query = f"x0={result.start_x!r}&y0=2.0&steps={steps}"

    def rerun(script_hash: str = "", slider_id: str = "", value: int = 0, fragment: str = ""):
        # The steps slider is drawn by a fragment, which a browser reruns alone: so does this client.
        return rerun_message(PAGE, script_hash, slider_id, value, query=query, fragment_id=fragment)

    ws_url = base_url.replace("http", "ws", 1) + "/_stcore/stream"
    try:
        # Through a balancer, the page request first, as a browser: its route cookie pins the session.
        cookie = await asyncio.to_thread(nginx.route_cookie, base_url) if balanced else ""
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      additional_headers={"Cookie": cookie} if cookie else None) as ws:
            opened = time.monotonic()
            _, facts = await _protocol_run(ws, rerun(), result)
            result.opened_at = time.monotonic()
            result.open_s = result.opened_at - opened
            deadline = time.monotonic() + duration_s
            while time.monotonic() < deadline or result.checked < min_redraws:
                steps += 1
                pressed = time.monotonic()
                again = rerun(facts["script_hash"], facts["slider_id"], steps, facts.get("fragment", ""))
                latency, shown = await _protocol_run(ws, again, result)
                result.checked += 1
                path = shown.get("path")
                if latency is None or path is None:
                    result.wrong.append(f"no contour map with a path for steps={steps}")
                    continue
                result.latencies_ms.append(1000 * latency)
                result.pressed_at.append(pressed)
                if abs(path["x0"] - result.start_x) > 1e-9:
                    result.leaks.append(f"a path starting at x={path['x0']} in the session that set "
                                        f"x={result.start_x}")
                elif path["points"] != steps + 1:
                    result.wrong.append(f"{path['points']} points for steps={steps}")
                await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
    except Exception as exc:
        first_line = str(exc).splitlines()[0][:120] if str(exc) else ""
        result.errors.append(f"session failed: {type(exc).__name__}: {first_line}")
    return result


async def run_page_session(base_url: str, index: int, duration_s: float, think_s: float, info: PageInfo,
                           seed: int = 0, min_redraws: int = 0, balanced: bool = False) -> SessionResult:
    """A student on another page, over Streamlit's protocol: open the page's default link, then move its
    benchmark slider (bench.browser.PROBES: the setting a student moves most) one step at a time, to the
    other end and back. Latency runs from the request to the probe's figure arriving (or, if the run sends
    none, the run's end); a run that shows an exception counts as an error. Per-session state is checked
    on the Explorer only, where each session's start is its own."""
    import websockets
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    probe = PROBES[info.path]
    rng = np.random.default_rng([seed, index])
    result = SessionResult(index, float("nan"))
    ws_url = base_url.replace("http", "ws", 1) + "/_stcore/stream"

    async def one_run(ws, message) -> tuple[float | None, dict]:
        sent, arrived, facts, seen = time.monotonic(), None, {}, 0
        await ws.send(message.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=REDRAW_TIMEOUT_S))
            facts["script_hash"] = forward.metadata.active_script_hash or facts.get("script_hash", "")
            if forward.WhichOneof("type") == "script_finished" and forward.script_finished != RERUNNING:
                return arrived if arrived is not None else time.monotonic() - sent, facts
            if forward.WhichOneof("type") != "delta" or forward.delta.WhichOneof("type") != "new_element":
                continue
            element = forward.delta.new_element
            kind = element.WhichOneof("type")
            if kind == "exception":
                result.errors.append(f"exception on the page: {element.exception.message[:100]}")
            elif kind == "slider" and element.slider.id.endswith(f"-{probe.slider_key}"):
                facts["slider"], facts["fragment"] = element.slider, forward.delta.fragment_id
            elif arrived is None:
                found, seen = probe_figure(element, probe, seen)
                if found:
                    arrived = time.monotonic() - sent

    try:
        cookie = await asyncio.to_thread(nginx.route_cookie, base_url) if balanced else ""
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      additional_headers={"Cookie": cookie} if cookie else None) as ws:
            opened = time.monotonic()
            _, facts = await one_run(ws, rerun_message(info.url_path))
            result.opened_at = time.monotonic()
            result.open_s = result.opened_at - opened
            slider = facts.get("slider")
            if slider is None:
                raise RuntimeError(f"no slider {probe.slider_key!r} on {info.title}")
            low, high, step = slider.min, slider.max, slider.step or 1
            value, direction = (list(slider.default) or [low])[0], 1
            deadline = time.monotonic() + duration_s
            while time.monotonic() < deadline or result.checked < min_redraws:
                if not low <= value + direction * step <= high:
                    direction = -direction
                value += direction * step
                pressed = time.monotonic()
                # A slider drawn by a fragment reruns that fragment alone, as in the browser.
                latency, _ = await one_run(ws, rerun_message(info.url_path, facts["script_hash"], slider.id,
                                                             value, fragment_id=facts.get("fragment", "")))
                result.checked += 1
                result.latencies_ms.append(1000 * latency)
                result.pressed_at.append(pressed)
                await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
    except Exception as exc:
        first_line = str(exc).splitlines()[0][:120] if str(exc) else ""
        result.errors.append(f"session failed: {type(exc).__name__}: {first_line}")
    return result


async def run_sessions(base_url: str | list[str], sessions: int, duration_s: float, think_s: float,
                       on_browser_started=None, min_redraws: int = 0, client: str = "browser",
                       browser_args: list[str] | None = None, balanced: bool = False,
                       info: PageInfo | None = None) -> list[SessionResult]:
    """``sessions`` concurrent sessions, each changing settings for ``duration_s`` seconds, as browsers
    (``client="browser"``) or as bare protocol clients (``"protocol"``). With several base URLs, session
    i goes to URL i mod their number, and stays there."""
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    if info is not None and info.url_path != PAGE:
        if client != "protocol":
            raise ValueError("pages other than the Explorer are driven by protocol clients "
                             "(--client protocol)")
        if on_browser_started:
            on_browser_started()
        return list(await asyncio.gather(*(run_page_session(urls[i % len(urls)], i, duration_s, think_s, info,
                                                            min_redraws=min_redraws, balanced=balanced)
                                           for i in range(sessions))))
    if client == "protocol":
        if on_browser_started:
            on_browser_started()
        return list(await asyncio.gather(*(run_protocol_session(urls[i % len(urls)], i, duration_s, think_s,
                                                                min_redraws=min_redraws, balanced=balanced)
                                           for i in range(sessions))))
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        extra = LIGHT_BROWSER if browser_args is None else browser_args
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS + list(extra))
        if on_browser_started:
            on_browser_started()
        # Everyone opens the link at once, as a class does when the teacher shares it.
        results = await asyncio.gather(*(run_session(browser, urls[i % len(urls)], i, duration_s, think_s,
                                                     min_redraws=min_redraws)
                                         for i in range(sessions)))
        await browser.close()
    return list(results)


def _descendants(root_pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """Samples the servers' resident memory (summed) and the CPU time of the clients this process started."""

    def __init__(self, server_pids: list[int], interval_s: float = 0.5):
        super().__init__(daemon=True)
        self.server_pids, self.interval_s = server_pids, interval_s
        self.memory_mb: list[float] = []
        self.browser_cpu: dict[int, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                if self.server_pids:
                    self.memory_mb.append(sum(resident_mb(pid) for pid in self.server_pids))
            except OSError:
                pass
            servers = set(self.server_pids).union(*(_descendants(pid) for pid in self.server_pids))
            for pid in _descendants(os.getpid()) - servers:
                try:
                    self.browser_cpu[pid] = cpu_seconds(pid)
                except OSError:
                    pass

    def stop(self) -> None:
        self._done.set()
        self.join()


def run_load(sessions: int, duration_s: float, think_s: float, url: str | None = None,
             log_dir: Path | None = None, client: str = "browser", replicas: int = 1,
             through_nginx: bool = False, info: PageInfo | None = None) -> dict:
    """Start ``replicas`` servers (unless ``url``), run the sessions (session i on server i mod replicas,
    as a load balancer with sticky sessions would place them, or, ``through_nginx``, all through the
    documented nginx configuration, which places them by its route cookie), and summarize (see the module
    docstring)."""
    servers, logs, urls = [], [], [url] if url else []
    sampler = balancer = routes = None
    try:
        if url is None:
            # Every process signs its cookies with the same secret, as the deployment guide says.
            os.environ.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", f"lossviz-load-{os.getpid()}")
            for replica in range(replicas):
                log_name = f"load_server_{client}_{sessions}_{replica}.log"
                log_path = (log_dir or ROOT / "test-artifacts") / log_name
                log_path.parent.mkdir(parents=True, exist_ok=True)
                port = _free_port()
                servers.append(start_server(port, log_path))
                logs.append(log_path)
                urls.append(f"http://127.0.0.1:{port}")
        direct = list(urls)
        if through_nginx and url is None:
            balancer = nginx.start([u.removeprefix("http://") for u in direct], _free_port())
            urls = [balancer.url]
        # One visit to each server first, so the figures below are for a running app, not for importing it.
        for base in direct:
            explorer = info is None or info.url_path == PAGE
            warm = asyncio.run(run_protocol_session(base, 999, 0.0, 0.0) if explorer
                               else run_page_session(base, 999, 0.0, 0.0, info, min_redraws=1))
            if warm.errors:
                raise RuntimeError(f"the Explorer does not open on {base}: {warm.errors}")
        pids = [server.pid for server in servers]
        load_before = load_average()
        sampler = Sampler(pids)
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        results = asyncio.run(run_sessions(urls, sessions, duration_s, think_s,
                                           on_browser_started=sampler.start, client=client,
                                           balanced=balancer is not None, info=info))
        elapsed = time.monotonic() - started
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before if pids else None
        end_memory = sum(resident_mb(pid) for pid in pids) if pids else None
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        if balancer is not None:
            routes = balancer.routes()
            balancer.stop()
        for server in servers:
            stop_server(server)
    log_errors = [line for log in logs for line in log.read_text().splitlines() if LOG_ERROR.search(line)]
    return summarize(results, client=client, sessions=sessions, replicas=len(servers) or len(urls),
                     nginx=routes, page=(info.title if info else "Surface explorer"),
                     page_path=info.url_path if info else PAGE, duration_s=duration_s,
                     think_s=think_s, elapsed_s=elapsed, server_cpu_s=server_cpu, memory_mb=sampler.memory_mb,
                     end_memory_mb=end_memory, browser_cpu_s=sum(sampler.browser_cpu.values()),
                     log_errors=log_errors, load_before=load_before, load_after=load_average())


def summarize(results: list[SessionResult], **run) -> dict:
    latencies = np.array([x for r in results for x in r.latencies_ms]) if results else np.array([])
    interactions = int(latencies.size)
    # Steady state: moves made once every session had its page, i.e. without the class's arrival burst.
    everyone_in = max((r.opened_at for r in results), default=float("inf"))
    steady = np.array([x for r in results for x, t in zip(r.latencies_ms, r.pressed_at) if t >= everyone_in])
    summary = dict(run)
    summary.update(
        steady_n=int(steady.size),
        steady_p50_ms=float(np.percentile(steady, 50)) if steady.size else float("nan"),
        steady_p95_ms=float(np.percentile(steady, 95)) if steady.size else float("nan"),
        interactions=interactions,
        checked=sum(r.checked for r in results),
        p50_ms=float(np.percentile(latencies, 50)) if interactions else float("nan"),
        p95_ms=float(np.percentile(latencies, 95)) if interactions else float("nan"),
        open_p95_s=float(np.percentile([r.open_s for r in results], 95)) if results else float("nan"),
        worst_session_p95_ms=max((float(np.percentile(r.latencies_ms, 95))
                                  for r in results if r.latencies_ms), default=float("nan")),
        leaks=[f"session {r.index}: {m}" for r in results for m in r.leaks],
        wrong=[f"session {r.index}: {m}" for r in results for m in r.wrong],
        errors=[f"session {r.index}: {m}" for r in results for m in r.errors],
        timeouts=sum(r.timeouts for r in results),
        idle_sessions=[r.index for r in results if not r.latencies_ms],
        server_cpu_per_rerun_ms=(1000 * run["server_cpu_s"] / interactions
                                 if run.get("server_cpu_s") is not None and interactions else None),
        peak_memory_mb=max(run["memory_mb"], default=None),
        first_memory_mb=run["memory_mb"][0] if run["memory_mb"] else None,
    )
    return summary


def summary_text(s: dict) -> str:
    def mb(value):
        return "—" if value is None else f"{value:.0f}"

    cpu = "—" if s["server_cpu_per_rerun_ms"] is None else f"{s['server_cpu_per_rerun_ms']:.0f}"
    return (f"{s['client']}: {s['sessions']:>3} sessions on {s['replicas']} server(s), think "
            f"{s['think_s']:g} s, {s['duration_s']:.0f} s: page open p95 {s['open_p95_s']:.1f} s, "
            f"{s['interactions']} redraws, p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms (after all "
            f"arrived: {s['steady_n']} redraws, p50 {s['steady_p50_ms']:.0f} ms, p95 "
            f"{s['steady_p95_ms']:.0f} ms), server CPU {cpu} ms/rerun, memory "
            f"{mb(s['first_memory_mb'])} -> peak {mb(s['peak_memory_mb'])} -> end {mb(s['end_memory_mb'])} "
            "MB, "
            f"leaks {len(s['leaks'])}, wrong {len(s['wrong'])}, slow (> {REDRAW_TIMEOUT_S:.0f} s) "
            f"{s['timeouts']}, errors {len(s['errors'])}, "
            f"log errors {len(s['log_errors'])}, load {s['load_before']} -> {s['load_after']}")


def _page_info(url_path: str) -> PageInfo:
    return next(p for p in PAGES if p.url_path == url_path)


def markers(client: str, replicas: int, think_s: float, through_nginx: bool = False,
            page: str = PAGE) -> tuple[str, str]:
    """Each configuration (client, replicas, think time) has its own block: re-running one replaces it
    and keeps the others."""
    return report.markers(f"load-benchmark-{client}-{replicas}x-think{think_s:g}"
                          + ("-nginx" if through_nginx else "") + ("" if page == PAGE else f"-{page}"))


CLIENT_TEXT = {
    "browser": (
        "one headless Debian chromium with one Playwright context per session, **on the same machine as "
        "the server**, so the browsers' own work competes with the server for the two cores (their CPU time "
        "is in the table; WebGL is off, so the Explorer's 3-D view is not drawn, though the server still "
        "builds and sends it). Latency: key press to the contour map redrawn in the browser."
    ),
    "protocol": (
        "one bare client per session speaking Streamlit's WebSocket protocol (the same rerun requests a "
        "browser sends, no rendering), so the two cores are left to the server and other jobs. Latency: "
        "rerun request sent to the contour map's message received, i.e. the server's share; a browser adds "
        "its render time (the `render` column of the browser benchmark above)."
    ),
}


def render(summaries: list[dict], command: str) -> str:
    first = summaries[0]
    balanced = first.get("nginx") is not None
    page = first.get("page_path", PAGE)
    begin, end = markers(first["client"], first["replicas"], first["think_s"], balanced, page)
    lines = [
        begin,
        f"## Load{'' if page == PAGE else ': ' + first['page']}: {first['client']} clients, "
        f"{first['replicas']} server process(es)"
        f"{' behind nginx' if balanced else ''}, {first['think_s']:g} s between moves",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}: {first['replicas']} server process(es) started as "
        "`python -m lossviz app` "
        + (f"behind Debian's nginx {nginx.version()} configured as docs/DEPLOYMENT.md says (its ```nginx "
           "block, read by bench/nginx.py; only the upstream addresses and the port replaced), every "
           "session through nginx, placed by its route cookie, "
           if balanced else f"(session i on process i mod {first['replicas']}, as a sticky load balancer "
                            "places them) ")
        + "and "
        f"{CLIENT_TEXT[first['client']]} "
        + (("Each session opens the Surface Explorer with its own start point, then moves the steps slider "
            "one step, waits for the contour map, checks it, and thinks "
            f"{first['think_s']:g} s (jittered ±50 %) before the next move. A figure is correct when its "
            "first path starts at the session's own start (anything else is state leaking between "
            "sessions) and has steps + 1 points for the session's own slider. ") if page == PAGE else
           (f"Each session opens {first['page']} on its default link, then moves its slider "
            f"({PROBES[_page_info(page).path].what}) one step, waits for that figure, and thinks "
            f"{first['think_s']:g} s (jittered ±50 %) before the next move; the figures are not checked "
            "per session here (the Explorer's runs check that). "))
        + "Page open: link opened to page drawn, every session arriving at once. The load average is the "
        "machine's, other jobs included: the latencies are pessimistic.",
        "",
        "| sessions | replicas | think (s) | duration (s) | page open p95 (s) | redraws | p50 / p95, all "
        "(ms) | p50 / p95 after all arrived (ms) | worst session p95 (ms) | server CPU per rerun (ms) | "
        "clients' CPU (s) | server memory start / peak / end (MB) | leaks | wrong figures | moves slower "
        f"than {REDRAW_TIMEOUT_S:.0f} s | errors | "
        "server log errors | "
        "load average before -> after |",
        "|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in summaries:
        cpu = "—" if s["server_cpu_per_rerun_ms"] is None else f"{s['server_cpu_per_rerun_ms']:.0f}"
        memory = " / ".join("—" if v is None else f"{v:.0f}"
                            for v in (s["first_memory_mb"], s["peak_memory_mb"], s["end_memory_mb"]))
        lines.append(
            f"| {s['sessions']} | {s['replicas']} | {s['think_s']:g} | {s['duration_s']:.0f} | "
            f"{s['open_p95_s']:.1f} | {s['checked']} | {s['p50_ms']:.0f} / {s['p95_ms']:.0f} | "
            f"{s['steady_p50_ms']:.0f} / "
            f"{s['steady_p95_ms']:.0f} ({s['steady_n']}) | {s['worst_session_p95_ms']:.0f} | {cpu} | "
            f"{s['browser_cpu_s']:.0f} | {memory} | {len(s['leaks'])} | {len(s['wrong'])} | "
            f"{s['timeouts']} | "
            f"{len(s['errors'])} | {len(s['log_errors'])} | {s['load_before']} -> {s['load_after']} |"
        )
    held = [s["sessions"] for s in summaries if s["steady_p95_ms"] <= P95_LIMIT_MS]
    lines.append("")
    if len(summaries) > 1:
        lines.append(f"Most sessions with p95 <= {P95_LIMIT_MS:.0f} ms once all had arrived, in this sweep: "
                     f"{max(held) if held else 'none (even the smallest count missed it)'}.")
    if balanced:
        for s in summaries:
            r = s["nginx"]
            shares = ", ".join(f"{a}: {n}" for a, n in r["per_process"].items())
            lines.append(f"Through nginx, {s['sessions']} sessions: {r['routes']} route cookies, "
                         f"{len(r['split'])} of them on more than one process; sessions "
                         f"per process: {shares}.")
    problems = [m for s in summaries for m in s["leaks"] + s["wrong"] + s["errors"] + s["log_errors"]]
    if problems:
        lines.append("Problems seen (first 5): " + "; ".join(problems[:5]))
    lines.append(end)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per run")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause between a redraw and the next press (s)")
    parser.add_argument("--sweep", type=int, nargs="*", help="session counts to run one after another")
    parser.add_argument("--client", choices=["browser", "protocol"], default="browser",
                        help="browser: a Playwright context per session (default); protocol: Streamlit's "
                        "WebSocket protocol without a browser, to measure the server alone")
    parser.add_argument("--replicas", type=int, default=1,
                        help="servers to start; session i goes to server i mod replicas (sticky sessions)")
    parser.add_argument("--page", default=PAGE, choices=[p.url_path for p in PAGES if p.exists],
                        help="the page the sessions use (pages other than the Explorer: protocol clients, "
                        "moving the browser benchmark's slider for that page)")
    parser.add_argument("--nginx", action="store_true",
                        help="put the documented nginx configuration (docs/DEPLOYMENT.md) in front of the "
                        "replicas, started and stopped here, and drive every session through it")
    parser.add_argument("--url", help="an already running server (memory, CPU and log are then not measured)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    counts = args.sweep or [args.sessions]
    summaries = []
    for count in counts:
        summaries.append(run_load(count, args.duration, args.think, args.url, client=args.client,
                                  replicas=args.replicas, through_nginx=args.nginx,
                                  info=_page_info(args.page)))
        print(summary_text(summaries[-1]), flush=True)
    command = "python -m bench.load " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    block = render(summaries, command.strip())
    print(block)
    if not args.no_write:
        write_block(block, args.output,
                    *markers(args.client, summaries[0]["replicas"], args.think, args.nginx, args.page))
    if any(s["leaks"] or s["wrong"] or s["log_errors"] or (s.get("nginx") or {}).get("split")
           for s in summaries):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

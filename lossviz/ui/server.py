"""Starting the app's server, as ``lossviz app`` (and ``make run``) does: warm, and quick to answer.

    run(folder, port, address, options)   # streamlit run app.py, after warm_server, with send_without_delay,
                                          # its health check held by warm_sessions until every page opened

The Streamlit side of the ``lossviz`` command (:mod:`lossviz.cli`), which imports this only for ``app``:
the library's core and its other commands do without Streamlit.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from streamlit.web import cli as streamlit_cli  # lossviz.cli turns its absence into a message

__all__ = ["run", "warm_server", "warm_sessions", "send_without_delay"]


def run(folder: Path, port: int, address: str | None, options: Sequence[str]) -> int:
    """Serve the app in ``folder`` (the one holding app.py) on ``port``: ``streamlit run app.py`` with
    ``options`` passed on, warmed first; returns Streamlit's exit code once the server stops."""
    # The app's pages, its .streamlit/config.toml and its static/ folder sit beside app.py: run it from
    # there, as `make run` does from the clone.
    os.chdir(folder)
    if folder != Path(__file__).resolve().parents[2]:
        # An installed copy: the kit looks for the pages and the static folder next to the package
        # (lossviz.ui.catalog.ROOT, lossviz.ui.live_plotly.STATIC); point it at share/lossviz instead.
        from lossviz.ui import catalog, live_plotly

        catalog.ROOT = folder
        live_plotly.STATIC = folder / "static"
        live_plotly._install_plotly_js()
    argv = ["run", "app.py", "--server.port", str(port)]
    if address:
        argv += ["--server.address", address]
    argv += list(options)
    warm_server()
    send_without_delay()
    warm_sessions()
    print(f"lossviz is starting: open http://{address or '127.0.0.1'}:{port}", flush=True)
    return streamlit_cli.main.main(args=argv, prog_name="streamlit", standalone_mode=False) or 0


def warm_server() -> None:
    """What a server computes before it takes its first visitor, so that visitor finds it done.

    Imports every lesson and figure module (about 1.1 s here), then computes the Neural net page's default
    visit into its shared stores (about 2 s; :func:`lossviz.ui.cache.warm_network`, which the first page
    view would otherwise start in the background, slowing that page and the next). The server answers its
    health check a few seconds later, warm. The rest of the Streamlit page kit is left to the first run:
    it declares the live chart's component, which Streamlit registers only inside a script run.
    """
    import importlib
    import logging
    import pkgutil

    from lossviz import lessons, viz

    for package in (lessons, viz):
        for module in pkgutil.iter_modules(package.__path__):
            try:
                importlib.import_module(f"{package.__name__}.{module.name}")
            except Exception:  # noqa: BLE001 -- the page that needs it shows the error when it runs
                pass
    import streamlit  # noqa: F401 -- creates Streamlit's loggers, quieted next

    # Streamlit warns that no script run or runtime is there (true: the server has not started); quiet.
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name.startswith("streamlit")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        from lossviz.ui import cache

        thread = cache.warm_network()
        cache.warm_pages()  # meanwhile: the Regularization and Batch size pages' slow parts
        if thread is not None:
            thread.join()
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def warm_sessions(deadline_s: float = 120.0) -> None:
    """Open every page once as a first visitor does, as soon as the server listens, and have the health
    check answer "warming up" (503) until that is done (or ``deadline_s`` has passed).

    :func:`warm_server` fills the lessons' caches before the server starts, but a server's first session
    still paid for what only a running server does once: the first visitor's page ran twice (the server
    starts the run again once its first navigation is known), 0.38-0.48 s on the server against 0.05 s for
    the next visitor (measured with a WebSocket client, the first of four fresh servers each time); and
    each page's first visit paid its own first run (0.07-0.13 s against 0.04-0.05 s). Here a session of
    the server's own, over its WebSocket as a browser speaks it, opens each page in turn before the health
    check lets a load balancer (or ``make run``'s user, or a benchmark) send visitors.
    """
    import threading

    from streamlit.runtime.runtime import Runtime

    warmed = threading.Event()
    ready = Runtime.is_ready_for_browser_connection  # a property whose getter is a coroutine function

    async def is_ready(runtime) -> tuple[bool, str]:
        ok, message = await ready.fget(runtime)
        return (False, "warming up") if ok and not warmed.is_set() else (ok, message)

    Runtime.is_ready_for_browser_connection = property(is_ready)
    threading.Thread(target=_visit_every_page, args=(warmed, deadline_s), name="lossviz-warm-sessions",
                     daemon=True).start()


def _visit_every_page(warmed, deadline_s: float) -> None:
    """One session through every page of the running server (see :func:`warm_sessions`); sets ``warmed``
    whatever happens, and says in the server's log what it did."""
    import time

    started = time.monotonic()
    deadline = started + deadline_s
    visited: list[str] = []
    try:
        from streamlit import config
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.runtime.runtime import Runtime
        from websockets.sync.client import connect

        from lossviz.ui.catalog import PAGES

        while not Runtime.exists() and time.monotonic() < deadline:  # the options are read by then
            time.sleep(0.05)
        host = str(config.get_option("server.address") or "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        host = f"[{host}]" if ":" in host else host
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        secure = bool(config.get_option("server.sslCertFile"))
        url = (f"{'wss' if secure else 'ws'}://{host}:{config.get_option('server.port')}"
               f"{'/' + base if base else ''}/_stcore/stream")
        context = None
        if secure:  # its own certificate, perhaps self-signed: this is the server talking to itself
            import ssl

            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        while True:
            try:
                session = connect(url, subprotocols=["streamlit"], proxy=None, max_size=None, ssl=context,
                                  open_timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with session:
            for page in (p for p in PAGES if p.exists):
                message = BackMsg()
                message.rerun_script.page_name = page.url_path
                session.send(message.SerializeToString())
                while True:  # until the page's run is over (not a run the server starts again itself)
                    reply = ForwardMsg()
                    reply.ParseFromString(session.recv(timeout=max(1.0, deadline - time.monotonic())))
                    if reply.WhichOneof("type") == "script_finished" and \
                            reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        break
                visited.append(page.url_path)
        print(f"lossviz: warm: opened {len(visited)} pages in {time.monotonic() - started:.1f} s", flush=True)
    except Exception as exc:  # noqa: BLE001 -- a server that cannot warm itself still serves, cold
        print(f"lossviz: warm: stopped after {len(visited)} pages ({type(exc).__name__}: {exc})", flush=True)
    finally:
        warmed.set()


def send_without_delay() -> None:
    """Have the server send each message the moment it is written: TCP_NODELAY on every TCP connection
    asyncio sets up (idempotent; ``lossviz app`` calls it before the server starts).

    Streamlit 1.67 serves its WebSocket through uvicorn on a listening socket made as
    ``socket.socket(family)``, protocol number 0, which its accepted connections inherit. Python 3.11's
    asyncio sets TCP_NODELAY only on sockets numbered IPPROTO_TCP, so every connection kept Nagle's
    algorithm: after a rerun's first small message, the next could wait for its acknowledgement, which a
    Linux receiver delays by up to 40 ms. Measured with a WebSocket client (bench.browser's protocol
    client): a trivial page's rerun arrived 44-48 ms after the request though the script took 5 ms; 6-13 ms
    with TCP_NODELAY. Chromium and nginx as receivers showed no such wait in the same measurements, so a
    browser's key press gains little: the option matters to other clients and to what a benchmark
    reports as the server's share.
    """
    import asyncio.base_events
    import socket

    if getattr(asyncio.base_events._set_nodelay, "lossviz", False):
        return

    def _set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    _set_nodelay.lossviz = True  # type: ignore[attr-defined]
    asyncio.base_events._set_nodelay = _set_nodelay

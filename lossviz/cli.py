"""The ``lossviz`` command: the web app, a race written to a file, and what each registry holds.

    lossviz app [--port 8501] [-- STREAMLIT OPTION ...]        the web app (what ``make run`` starts)
    lossviz race rosenbrock adam sgd --steps 500 --out race.gif  a race, no browser needed
    lossviz names [optimizer]                                   surfaces, optimizers, schedules...

A racer is an optimizer name, optionally with hyperparameters: ``sgd:lr=0.001,momentum=0.9``; a surface
likewise (``quadratic:condition_number=50``). ``--out`` takes ``.csv`` (every step of every racer),
``.gif`` or ``.mp4`` (the race growing over the map), ``.png`` or ``.svg`` (the finished race) or
``.html``; without it the race's summary is printed. Files other than CSV need ``pip install
'lossviz[plot]'`` (or ``[app]``) and a Chromium browser; the app needs ``lossviz[app]``.

    >>> main(["race", "himmelblau", "sgd", "adam", "--steps", "50"])
    Race on Himmelblau from (-0.5, 0.5) for 50 steps:
      sgd   loss 158 -> 3.01e-16, reached the global minimum at step 26
      adam  loss 158 -> 0.388, still on its way
    0
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "app_folder", "parse_named", "send_without_delay"]

_FIGURES = (".png", ".svg", ".html", ".jpg", ".jpeg", ".webp", ".pdf")
_ANIMATIONS = (".gif", ".mp4")


def _value(text: str) -> object:
    """A command-line value as Python sees it: ``0.01`` a float, ``true`` True, ``(0.9,0.99)`` a tuple."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_named(text: str) -> tuple[str, dict[str, object]]:
    """``"sgd:lr=0.001,momentum=0.9"`` -> ``("sgd", {"lr": 0.001, "momentum": 0.9})``.

    >>> parse_named("adam:lr=0.01,betas=(0.9,0.99)")
    ('adam', {'lr': 0.01, 'betas': (0.9, 0.99)})
    >>> parse_named("rosenbrock")
    ('rosenbrock', {})
    """
    name, _, rest = text.partition(":")
    params: dict[str, object] = {}
    depth, item, items = 0, "", []
    for char in rest:  # commas inside brackets belong to the value: betas=(0.9,0.99)
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += char
    items.append(item)
    for entry in filter(None, (i.strip() for i in items)):
        key, equals, value = entry.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{text!r}: write parameters as name:key=value,key=value (got {entry!r})")
        params[key.strip()] = _value(value)
    return name.strip(), params


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lossviz", description="Loss landscapes and the optimizers that descend them.",
        epilog="Run 'lossviz COMMAND --help' for a command's options. The library: import lossviz as lv.")
    from lossviz import __version__

    parser.add_argument("--version", action="version", version=f"lossviz {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    app = commands.add_parser("app", help="start the web app (what 'make run' starts)",
                              description="Start the lossviz web app (Streamlit) and print its address.")
    app.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    app.add_argument("--address", default=None, help="address to listen on (default: the app's, 127.0.0.1)")
    app.add_argument("streamlit_options", nargs=argparse.REMAINDER, metavar="-- OPTION ...",
                     help="options passed on to 'streamlit run', after -- (-- --server.baseUrlPath lab)")

    race = commands.add_parser(
        "race", help="race optimizers on a surface; print it or write a CSV, GIF, MP4, PNG or SVG",
        description="Race optimizers from one start on a 2-D surface, as the Surface Explorer does.",
        epilog="Examples: lossviz race rosenbrock adam sgd --steps 500 --out race.gif; "
               "lossviz race quadratic:condition_number=50 sgd:lr=1.8 sgd:lr=1.8,momentum=0.5 --out race.csv")
    race.add_argument("surface",
                      help="surface name, optionally name:key=value,... (see 'lossviz names surface')")
    race.add_argument("optimizers", nargs="+", metavar="OPTIMIZER",
                      help="1 to 6 optimizer names, each optionally name:lr=...,momentum=...; a name alone "
                           "races at the rate the Surface Explorer gives it")
    race.add_argument("--steps", type=int, default=500, help="steps per racer (default 500)")
    race.add_argument("--start", type=float, nargs=2, metavar=("X", "Y"),
                      help="start (default the surface's)")
    race.add_argument("--out", type=Path,
                      help="write .csv, .gif, .mp4, .png, .svg or .html instead of printing")
    race.add_argument("--frames", type=int, default=60, help="animation frames (default 60)")
    race.add_argument("--fps", type=float, default=12.0, help="animation frames per second (default 12)")
    race.add_argument("--size", type=int, nargs=2, metavar=("W", "H"),
                      help="pixels (default 1280 720 for an animation, 1920 1080 for an image)")

    names = commands.add_parser("names", help="list surfaces, optimizers, schedules, datasets, models...",
                                description="List what each registry holds, by the names lossviz takes.")
    names.add_argument("registry", nargs="?", help="one registry (surface, optimizer, schedule, dataset, "
                                                   "model, loss, regularizer)")
    return parser


def _race(args: argparse.Namespace) -> int:
    import lossviz as lv

    surface_name, surface_params = parse_named(args.surface)
    surface = lv.surface(surface_name, **surface_params)
    racers: dict[str, object] = {}
    for text in args.optimizers:
        name, params = parse_named(text)
        label = text if text not in racers else f"{text} ({len(racers) + 1})"
        racers[label] = lv.optimizer(name, **params) if params else name
    race = lv.race(surface, racers, args.start, args.steps)
    out: Path | None = args.out
    if out is None:
        print(race)
        return 0
    suffix = out.suffix.lower()
    if suffix == ".csv":
        from lossviz import csvdata

        out.write_text(csvdata.to_csv(race.to_frame()), encoding="utf-8")
    elif suffix in _ANIMATIONS or suffix in _FIGURES:
        try:
            from lossviz import plot
        except ModuleNotFoundError as exc:
            raise SystemExit(f"lossviz: writing {out.name} needs plotly and kaleido: pip install "
                             f"'lossviz[plot]' ({exc})") from None
        if suffix in _ANIMATIONS:
            width, height = args.size or (1280, 720)
            figure = plot.animation(surface, race, frames=args.frames)
            plot.save_animation(figure, out, fps=args.fps, width=width, height=height,
                                progress=_progress_bar(out.name))
        elif suffix == ".html":
            plot.contour(surface, race).write_html(out, include_plotlyjs=True)
        else:
            width, height = args.size or (1920, 1080)
            plot.save_image(plot.contour(surface, race, animate=False), out, width=width, height=height)
    else:
        raise ValueError(f"--out must end in .csv, .gif, .mp4, .png, .svg or .html, got {out.name!r}")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0


def _progress_bar(name: str):
    """A one-line progress bar on stderr, when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(fraction: float) -> None:
        filled = int(30 * fraction)
        sys.stderr.write(f"\r{name} [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}")
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _names(args: argparse.Namespace) -> int:
    import lossviz as lv

    if args.registry:
        print("\n".join(lv.names(args.registry)))
    else:
        for registry, listing in lv.names().items():
            print(f"{registry}: {', '.join(listing)}")
    return 0


def app_folder() -> Path:
    """Where the web app's files are: the source tree this lossviz runs from (a clone, ``pip install -e``),
    else the copy ``pip install .`` put under ``<prefix>/share/lossviz``."""
    source = Path(__file__).resolve().parents[1]
    if (source / "app.py").is_file() and (source / "pages").is_dir():
        return source
    for prefix in (sysconfig.get_path("data"), sys.prefix, sysconfig.get_path("data", f"{os.name}_user")):
        installed = Path(prefix) / "share" / "lossviz"
        if (installed / "app.py").is_file():
            return installed
    raise SystemExit("lossviz: the web app's files (app.py, pages/) are not installed with this lossviz; "
                     "install it with pip install '.[app]' from a clone of the repository")


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


def _app(args: argparse.Namespace) -> int:
    try:
        from streamlit.web import cli as streamlit_cli
    except ModuleNotFoundError:
        raise SystemExit("lossviz: the web app needs Streamlit: pip install 'lossviz[app]'") from None
    folder = app_folder()
    # The app's pages, its .streamlit/config.toml and its static/ folder sit beside app.py: run it from
    # there, as `make run` does from the clone.
    os.chdir(folder)
    if folder != Path(__file__).resolve().parents[1]:
        # An installed copy: the kit looks for the pages and the static folder next to the package
        # (lossviz.ui.catalog.ROOT, lossviz.ui.live_plotly.STATIC); point it at share/lossviz instead.
        from lossviz.ui import catalog, live_plotly

        catalog.ROOT = folder
        live_plotly.STATIC = folder / "static"
        live_plotly._install_plotly_js()
    argv = ["run", "app.py", "--server.port", str(args.port)]
    if args.address:
        argv += ["--server.address", args.address]
    extra = list(args.streamlit_options or [])
    argv += extra[1:] if extra[:1] == ["--"] else extra
    warm_server()
    send_without_delay()
    warm_sessions()
    print(f"lossviz is starting: open http://{args.address or '127.0.0.1'}:{args.port}", flush=True)
    return streamlit_cli.main.main(args=argv, prog_name="streamlit", standalone_mode=False) or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lossviz`` command with ``argv`` (default: the process's arguments); returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler = {"app": _app, "race": _race, "names": _names}[args.command]
    try:
        return handler(args)
    except (ValueError, TypeError, RuntimeError) as exc:
        parser.exit(2, f"lossviz {args.command}: error: {exc}\n")
    return 1  # pragma: no cover - parser.exit raised

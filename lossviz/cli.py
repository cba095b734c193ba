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

__all__ = ["main", "app_folder", "parse_named"]

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


def _app(args: argparse.Namespace) -> int:
    try:
        from lossviz.ui import server
    except ModuleNotFoundError:
        raise SystemExit("lossviz: the web app needs Streamlit: pip install 'lossviz[app]'") from None
    extra = list(args.streamlit_options or [])
    return server.run(app_folder(), args.port, args.address, extra[1:] if extra[:1] == ["--"] else extra)


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

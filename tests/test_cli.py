"""The lossviz command: its subcommands in-process, then from a clean venv (pip install . and .[app])."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pandas as pd
import pytest

import lossviz as lv
from lossviz import cli
from lossviz.ui import server
from lossviz.ui.catalog import PAGES


@pytest.fixture(autouse=True)
def _asyncio_as_it_was(monkeypatch):
    """``lossviz app`` turns TCP_NODELAY on in asyncio (lossviz.ui.server.send_without_delay): each test
    here that runs it gives the original back."""
    import asyncio.base_events

    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", asyncio.base_events._set_nodelay)


ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_what_the_command_does(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for command in ("app", "race", "names"):
        assert f"    {command}" in text


def test_race_prints_the_race_the_library_runs(capsys):
    assert cli.main(["race", "himmelblau", "sgd", "adam:lr=0.1", "--steps", "80", "--start", "0", "-3"]) == 0
    expected = lv.race(lv.surface("himmelblau"), {"sgd": "sgd", "adam:lr=0.1": lv.optimizer("adam", lr=0.1)},
                       [0.0, -3.0], 80)
    assert capsys.readouterr().out == repr(expected) + "\n"


def test_race_writes_every_step_of_every_racer_as_csv(tmp_path, capsys):
    out = tmp_path / "race.csv"
    surface = "quadratic:condition_number=50,rotation=0"
    assert cli.main(["race", surface, "sgd:lr=1.8", "sgd:lr=1.8,momentum=0.5", "--steps", "60",
                     "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    table = pd.read_csv(out)
    bowl = lv.surface("quadratic", condition_number=50.0, rotation=0.0)
    momentum = lv.run(bowl, lv.optimizer("sgd", lr=1.8, momentum=0.5), bowl.default_start, 60)
    rows = table[table.racer == "sgd:lr=1.8,momentum=0.5"]
    assert len(table) == 2 * 61 and list(rows.step) == list(range(61))
    np.testing.assert_allclose(rows[["x", "y"]].to_numpy(), momentum.params, rtol=1e-15)


def test_names_lists_each_registry(capsys):
    assert cli.main(["names", "optimizer"]) == 0
    assert capsys.readouterr().out.split() == lv.names("optimizer")
    assert cli.main(["names"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == list(lv.names())


@pytest.mark.parametrize(("text", "expected"), [
    ("sgd", ("sgd", {})),
    ("sgd:lr=0.001,momentum=0.9,nesterov=true", ("sgd", {"lr": 0.001, "momentum": 0.9, "nesterov": True})),
    ("adam:betas=(0.8,0.9),lr=1e-2", ("adam", {"betas": (0.8, 0.9), "lr": 0.01})),
    ("quadratic:condition_number=50", ("quadratic", {"condition_number": 50})),
])
def test_named_settings_are_read_as_python_values(text, expected):
    assert cli.parse_named(text) == expected


@pytest.mark.parametrize(("argv", "message"), [
    (["race", "moon", "sgd"], "surface"),
    (["race", "booth", "sgdd"], "optimizer"),
    (["race", "booth", "sgd:lr"], "key=value"),
    (["race", "booth", "sgd:lr=-1"], "lr"),
    (["race", "booth", "sgd", "--steps", "0"], "steps"),
    (["race", "booth", "sgd", "--out", "race.xlsx"], ".csv, .gif"),
    (["names", "planets"], "registry"),
])
def test_bad_arguments_exit_with_a_message_naming_them(argv, message, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_the_app_runs_from_the_clone_it_comes_from():
    assert cli.app_folder() == ROOT


def test_app_passes_options_after_a_double_dash_on_to_streamlit(monkeypatch):
    from streamlit.web import cli as streamlit_cli

    calls, warmed = [], []
    monkeypatch.chdir(ROOT)  # the command changes to the app's folder; put the test's back afterwards
    monkeypatch.setattr(streamlit_cli.main, "main", lambda **kwargs: calls.append(kwargs["args"]) or 0)
    monkeypatch.setattr(server, "warm_server", lambda: warmed.append(True))
    monkeypatch.setattr(server, "warm_sessions", lambda: warmed.append("sessions"))
    assert cli.main(["app", "--port", "8765", "--", "--server.headless", "true"]) == 0
    assert cli.main(["app", "--port", "8766", "--address", "0.0.0.0"]) == 0
    assert calls == [["run", "app.py", "--server.port", "8765", "--server.headless", "true"],
                     ["run", "app.py", "--server.port", "8766", "--server.address", "0.0.0.0"]]
    assert warmed == [True, "sessions", True, "sessions"]


def _accepted_nodelay() -> int:
    """TCP_NODELAY on the server side of a connection to an asyncio server listening, as Streamlit's does,
    on a socket bound by ``streamlit.web.server.starlette.starlette_server._bind_socket``."""
    import asyncio

    from streamlit.web.server.starlette.starlette_server import _bind_socket

    async def serve() -> int:
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()

        def connected(reader, writer):
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = _bind_socket("127.0.0.1", 0, 8)
        server = await asyncio.start_server(connected, sock=listening)
        port = listening.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(serve())


def test_the_app_server_sends_each_message_without_waiting_for_an_acknowledgement(monkeypatch):
    """Streamlit's server socket has protocol number 0 and asyncio sets TCP_NODELAY only on IPPROTO_TCP
    sockets: without ``send_without_delay`` a rerun's messages after the first wait for the browser's
    delayed acknowledgement (40 ms on Linux). ``lossviz app`` turns TCP_NODELAY on before the server
    starts. (When Streamlit or Python sets it themselves, the first assertion fails: drop the fix.)"""
    from streamlit.web import cli as streamlit_cli

    assert _accepted_nodelay() == 0
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(streamlit_cli.main, "main", lambda **kwargs: 0)
    monkeypatch.setattr(server, "warm_server", lambda: None)
    monkeypatch.setattr(server, "warm_sessions", lambda: None)
    assert cli.main(["app", "--port", "8767"]) == 0
    assert _accepted_nodelay() == 1
    server.send_without_delay()  # a second call changes nothing
    assert _accepted_nodelay() == 1


def test_the_server_starts_warm():
    """In a fresh interpreter, as `lossviz app` does before the server starts: every lesson and figure
    module is imported, the Neural net page's default visit is in its stores (the page then finds it), so
    are the slow parts of the Regularization and Batch size pages' default visits, and the live chart's
    module is not imported (Streamlit registers its component only inside a script run).
    """
    import pkgutil

    from lossviz import lessons, viz
    from lossviz.ui import cache

    expected = [f"{p.__name__}.{m.name}" for p in (lessons, viz) for m in pkgutil.iter_modules(p.__path__)]
    assert len(expected) >= 16
    script = ("import sys; from lossviz.ui import progress_cache, server; "
              "server.warm_server(); "
              f"print([m for m in {expected!r} if m not in sys.modules]); "
              "print('lossviz.ui.live_plotly' in sys.modules); "
              f"print([len(progress_cache._store(n)[0]) for n in {tuple(cache.NETWORK_STORES)!r}]); "
              # The Regularization and Batch size pages' slow parts are cached: asking again computes nothing.
              "from lossviz.lessons import batch_size, regularization; from lossviz.ui import cache; "
              "regularization.landscape_of = batch_size.solve = batch_size.balls_view = None; "
              "cache.warm_pages()")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    missing, live_chart, stored = out.stdout.splitlines()[-3:]
    assert (missing, live_chart) == ("[]", "False"), out.stdout
    assert all(int(n) >= 1 for n in stored.strip("[]").split(",")), stored
    # Quiet: no warning about the missing runtime reaches the server's log.
    assert "ScriptRunContext" not in out.stderr and "No runtime found" not in out.stderr, out.stderr


def _first_visit_runs(port: int, page: str) -> int:
    """How many times the server runs ``page`` for a new session opening it (over Streamlit's WebSocket,
    as a browser does): 1, or 2 when it starts the run again itself."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    message = BackMsg()
    message.rerun_script.page_name = page
    runs = 0
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], proxy=None,
                 max_size=None) as session:
        session.send(message.SerializeToString())
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(session.recv(timeout=120))
            if reply.WhichOneof("type") == "script_finished":
                runs += 1
                if reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return runs


def test_the_servers_first_visitor_finds_every_page_opened_before_the_health_check_says_ok(tmp_path):
    """Issue 16 (warm start): `lossviz app` opens every page in a session of its own once the server
    listens, and its health check says ok only after. A fresh server's first visitor otherwise had the
    page run twice (the server starts the first navigation's run again): 0.4 s against 0.05 s."""
    port, log = _free_port(), tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "lossviz", "app", "--port", str(port), "--",
                                   "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                  cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        answers = []
        for _ in range(1200):  # up to 2 minutes
            try:
                answers.append(_fetch(f"http://127.0.0.1:{port}/_stcore/health"))
            except urllib.error.HTTPError as error:  # 503 while warming up
                answers.append((error.code, error.read()))
            except OSError:
                pass  # not listening yet
            if answers and answers[-1][0] == 200:
                break
            time.sleep(0.1)
        assert answers and answers[-1] == (200, b"ok"), (answers[-3:], log.read_text())
        pages = [p for p in PAGES if p.exists]
        assert f"lossviz: warm: opened {len(pages)} pages in" in log.read_text(), log.read_text()
        assert (503, b"warming up") in answers, answers  # listening, not yet ok: the pages were opening
        assert [_first_visit_runs(port, p.url_path) for p in pages[:2]] == [1, 1]
    finally:
        server.terminate()
        server.wait(timeout=30)


# ------------------------------------------------------------------------------------------- clean venv
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def _tracked_copy(target: Path) -> Path:
    """The repository's tracked files as they are now (a fresh clone's view, without .venv or caches)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_pip_install_gives_the_library_alone_then_the_app_and_the_command_works(tmp_path):
    source = _tracked_copy(tmp_path / "lossviz-src")
    venv = tmp_path / "venv"
    # A venv of the base interpreter with nothing in it; this pip installs into it (pip --python), which
    # spares ensurepip's copy of pip. Compiling every installed module is skipped: the tests import few.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python, command = venv / "bin" / "python", venv / "bin" / "lossviz"
    # Byte code is written as modules are first imported (pip compiles nothing), then reused.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def pip(*requirements: str) -> None:
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                               "--no-compile", "--prefer-binary", "--disable-pip-version-check", "-q",
                               *requirements], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)

    pip(str(source))
    alone = run(python, "-c", "import importlib.util as u, lossviz as lv; print(lv.__file__); "
                "print([m for m in ('plotly', 'streamlit', 'kaleido') if u.find_spec(m)])")
    assert alone.returncode == 0, alone.stderr
    assert str(venv) in alone.stdout.splitlines()[0] and alone.stdout.splitlines()[1] == "[]"
    helped = run(command, "--help")
    assert helped.returncode == 0 and "race" in helped.stdout and "app" in helped.stdout
    raced = run(command, "race", "rosenbrock", "adam", "sgd", "--steps", "100",
                "--out", tmp_path / "race.csv")
    assert raced.returncode == 0, raced.stderr
    assert len(pd.read_csv(tmp_path / "race.csv")) == 2 * 101
    refused = run(command, "race", "rosenbrock", "adam", "--steps", "10", "--out", tmp_path / "race.gif")
    assert refused.returncode != 0 and "pip install 'lossviz[plot]'" in refused.stderr
    no_app = run(command, "app")
    assert no_app.returncode != 0 and "pip install 'lossviz[app]'" in no_app.stderr

    pip(f"{source}[app]")
    gif = tmp_path / "race.gif"
    animated = run(command, "race", "rosenbrock", "adam", "sgd", "--steps", "100", "--out", gif,
                   "--frames", "10", "--size", "320", "180")
    assert animated.returncode == 0, animated.stderr
    assert iio.imread(gif, index=None).shape == (10, 180, 320, 3)
    folder = run(python, "-c", "from lossviz.cli import app_folder; f = app_folder(); print(f); "
                 "print(len(list((f / 'pages').glob('*.py'))), (f / '.streamlit' / 'config.toml').is_file())")
    assert folder.stdout.split() == [str(venv / "share" / "lossviz"), "8", "True"], folder.stderr

    port = _free_port()
    server = subprocess.Popen([str(command), "app", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = _fetch(f"http://127.0.0.1:{port}/_stcore/health")
                break
            except OSError:
                time.sleep(0.5)
        log = server.stdout.read1().decode() if server.poll() is not None else "no answer in 90 s"
        assert health == (200, b"ok"), log
        # The app's own config (static serving) and static folder: plotly.js for its live charts.
        status, script = _fetch(f"http://127.0.0.1:{port}/app/static/plotly.min.js")
        assert status == 200 and len(script) > 1_000_000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

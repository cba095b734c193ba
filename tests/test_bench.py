"""Tests for bench: the report has every row and each case does the work it claims.

No timing is asserted anywhere: speed is what the benchmark reports, not what a test can promise on a
shared machine.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bench.core as bench
from bench import lessons as cases
from bench.browser import PROBES, probe_figure
from lossviz import optimizers, surfaces
from lossviz.lessons import learning_rate, momentum
from streamlit.proto.Element_pb2 import Element
from tests.pagetest import open_page

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bench.Measurement], str]:
    """The whole benchmark once, as the command line runs it, with --quick into a temporary file."""
    output = tmp_path_factory.mktemp("bench") / "BENCHMARKS.md"
    measurements = bench.main(["--quick", "--output", str(output)])
    return measurements, output.read_text(encoding="utf-8")


def facts_of(measurements: list[bench.Measurement], name: str) -> dict:
    (m,) = [m for m in measurements if m.case.name == name]
    assert m.skipped is None, m.skipped
    return m.work.facts


# ------------------------------------------------------------------------------------- the whole report
def test_report_has_date_machine_header_and_command(quick_run):
    _, text = quick_run
    assert datetime.date.today().isoformat() in text
    assert bench.TABLE_HEADER in text
    assert f"Python {platform.python_version()}, NumPy {np.__version__}" in text
    assert "`python -m bench --quick --output" in text
    assert f"{os.cpu_count()} logical" in text
    assert text.count(bench.BEGIN_MARKER) == 1 and text.rstrip().endswith(bench.END_MARKER)


def test_report_has_one_row_per_case_and_a_section_per_figure(quick_run):
    measurements, text = quick_run
    assert [m.case.name for m in measurements] == [c.name for c in bench.cases()]
    for case in bench.cases():
        assert text.count(f"| {case.name} |") == 1, case.name
    for figure in bench.figures():
        assert f"## ({figure.key}) {figure.title}" in text


def test_every_case_ran_and_was_timed_once(quick_run):
    measurements, _ = quick_run
    for m in measurements:
        assert m.skipped is None, f"{m.case.name}: {m.skipped}"
        assert len(m.wall) == 1 and len(m.cpu) == 1 and m.wall[0] > 0
        assert m.work is not None and m.work.summary


def test_a_row_per_surface_each_a_full_500_by_500_grid(quick_run):
    measurements, _ = quick_run
    grid_rows = [m for m in measurements if m.case.figure == "a"]
    assert sorted(m.case.name for m in grid_rows) == sorted(f"grid {n}" for n in surfaces.names())
    for m in grid_rows:
        assert m.work.facts["shape"] == (500, 500)
        assert m.case.target_seconds == pytest.approx(5e-3)


def test_race_covers_every_optimizer_for_1000_steps(quick_run):
    measurements, _ = quick_run
    assert set(bench.RACE_SETTINGS) == set(optimizers.names())
    for name in optimizers.names():
        facts = facts_of(measurements, f"race {name}")
        assert facts["steps"] == 1000 and facts["runs"] == 1
    total = facts_of(measurements, f"race: all {len(optimizers.names())} optimizers")
    assert total == {"optimizers": len(optimizers.names()), "steps": 1000 * len(optimizers.names())}


def test_momentum_sweep_is_4096_runs_of_500_steps_in_one_call(quick_run):
    facts = facts_of(quick_run[0], "sgd 64x64 (lr, momentum) on rosenbrock")
    assert facts["runs"] == 64 * 64 and facts["steps"] == 500


def test_learning_rate_sweep_diverges_only_above_the_stability_limit(quick_run):
    facts = facts_of(quick_run[0], "sgd 200 learning rates on quadratic (kappa 100)")
    assert facts["runs"] == 200 and facts["steps"] == 500
    # lambda_max = 1: learning rates above 2 grow by |1 - lr| per step; those above 2.1 must have blown up.
    learning_rates = np.geomspace(1e-3, 2.5, 200)
    assert (learning_rates > 2.1).sum() <= facts["diverged"] <= (learning_rates > 2.0).sum()


def test_logistic_regression_scores_40000_weight_pairs_on_10000_samples(quick_run):
    for precision in ("float64", "float32"):
        facts = facts_of(quick_run[0], f"logistic regression 200x200, {precision}")
        assert facts["values"] == 200 * 200 and facts["samples"] == 10_000
        # The data were drawn from weights (1.5, -2); the grid's best cell must be next to them.
        assert np.allclose(facts["argmin"], bench.LOGISTIC_TRUE_WEIGHTS, atol=0.3)


def test_mlp_slices_cover_the_whole_grid_of_a_2_32_32_2_network(quick_run):
    # Weights and biases of 2->32, 32->32, 32->2, counted by hand.
    dim = (2 * 32 + 32) + (32 * 32 + 32) + (32 * 2 + 2)
    for side in (101, 51):
        facts = facts_of(quick_run[0], f"mlp 2-32-32-2 slice {side}x{side}")
        assert facts == {"values": side * side, "dim": dim, "samples": 1000}


def test_targets_are_the_agreed_ones():
    targets = {c.name: c.target_seconds for c in bench.cases()}
    # The 50 ms race target was agreed for the nine torch.optim classics; the new optimizers (L-BFGS does up
    # to 20 inner iterations a step) are timed in the all-optimizer row, without a target.
    assert targets["race: the 9 torch.optim classics"] == pytest.approx(0.05)
    assert targets[f"race: all {len(optimizers.names())} optimizers"] is None
    assert targets["tuned race: 6 optimizers x 64 rates x 60 steps"] == pytest.approx(0.15)
    assert targets["sgd 64x64 (lr, momentum) on rosenbrock"] == pytest.approx(0.3)
    assert targets["logistic regression 200x200, float64"] == pytest.approx(0.5)
    assert targets["mlp 2-32-32-2 slice 101x101"] == pytest.approx(0.5)
    assert targets["mlp 2-32-32-2 slice 51x51"] is None
    assert targets["sgd 200 learning rates on quadratic (kappa 100)"] is None
    # Every missed target must come with a reason in the report.
    assert all(c.why_missed for c in bench.cases() if c.target_seconds is not None)


# -------------------------------------------------------------------- the checks reject fake work
def test_grid_check_rejects_a_wrong_shape_or_a_wrong_value():
    (case,) = [c for c in bench.cases() if c.name == "grid rosenbrock"]
    work, check = case.prepare()
    Z = work()
    check(Z)
    with pytest.raises(bench.BenchmarkError, match="shape"):
        check(Z[:, :-1])
    with pytest.raises(bench.BenchmarkError, match=r"Z\[\d+, \d+\] = "):
        check(Z.T.copy())  # a transposed grid breaks the rows-are-y convention


def test_sweep_check_rejects_a_run_with_fewer_runs():
    (case,) = [c for c in bench.cases() if c.name == "sgd 200 learning rates on quadratic (kappa 100)"]
    _, check = case.prepare()
    from lossviz.run import run

    small = run(surfaces.get("quadratic", condition_number=100.0), optimizers.get("sgd", lr=np.full(10, 0.1)),
                np.array([2.5, 2.0]), 500)
    with pytest.raises(bench.BenchmarkError, match="shape"):
        check(small)


# -------------------------------------------------------------------------------- registry and report
@pytest.fixture
def empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "_FIGURES", {})
    monkeypatch.setattr(bench, "_CASES", {})
    bench.register_figure(bench.Figure("x", "Example figure", "A toy figure."))


def toy_case(name: str = "toy", target: float | None = 1.0, why: str = "it sleeps", **kwargs) -> bench.Case:
    def prepare() -> bench.Trial:
        return bench.Trial(lambda: np.arange(3), lambda r: bench.Work(f"{r.size} numbers", {"n": r.size}))

    return bench.Case(name=name, figure="x", prepare=kwargs.get("prepare", prepare), target_seconds=target,
                      why_missed=why, threads=kwargs.get("threads", 1))


def test_register_rejects_unknown_figure_duplicate_name_and_bad_target(empty_registry):
    with pytest.raises(ValueError, match=r"figure must be one of x, got 'nope'"):
        bench.register(bench.Case("a", "nope", lambda: None))
    bench.register(toy_case("a"))
    with pytest.raises(ValueError, match=r"a case named 'a' is already registered"):
        bench.register(toy_case("a"))
    with pytest.raises(ValueError, match=r"target_seconds must be > 0 or None, got -1"):
        bench.register(toy_case("b", target=-1))


def test_measure_rejects_bad_repeat_counts(empty_registry):
    with pytest.raises(ValueError, match=r"repeats must be >= 1 and warmup >= 0, got repeats=0, warmup=1"):
        bench.measure(toy_case(), repeats=0, warmup=1)
    with pytest.raises(ValueError, match=r"got repeats=1, warmup=-1"):
        bench.measure(toy_case(), repeats=1, warmup=-1)


def test_measure_counts_warmups_and_repeats(empty_registry):
    calls = []

    def prepare() -> bench.Trial:
        return bench.Trial(lambda: calls.append(1) or np.zeros(2), lambda r: bench.Work("ok", {}))

    m = bench.measure(toy_case(prepare=prepare), repeats=4, warmup=2)
    assert len(calls) == 6 and len(m.wall) == 4 and len(m.cpu) == 4


def test_measure_gives_a_slow_row_fewer_but_at_least_min_repeats(empty_registry, monkeypatch):
    # A zero budget makes every row "slow" whatever the clock says.
    monkeypatch.setattr(bench, "TIME_BUDGET_SECONDS", 0.0)
    assert len(bench.measure(toy_case(), repeats=15, warmup=1).wall) == bench.MIN_REPEATS
    assert len(bench.measure(toy_case(), repeats=3, warmup=1).wall) == 3
    # Without a warm-up there is nothing to judge by: exactly the repeats asked for.
    assert len(bench.measure(toy_case(), repeats=15, warmup=0).wall) == 15


def test_an_unavailable_case_is_reported_not_measured(empty_registry):
    def prepare() -> bench.Trial:
        raise bench.CaseUnavailable("not measured: models missing")

    bench.register(toy_case("needs models", prepare=prepare))
    (m,) = bench.benchmark(repeats=1, warmup=0)
    assert m.skipped == "not measured: models missing" and m.median is None and m.met is None
    text = bench.render_markdown([m], bench.machine_info(), command="c", date="2026-01-01", repeats=1,
                                 warmup=0, rounds=1)
    assert "| needs models | - | - | - | - | - | <= 1,000 ms | not measured: models missing |" in text


def test_missed_and_met_targets_are_stated_with_the_reason(empty_registry):
    slow = bench.Measurement(toy_case("slow", target=0.01, why="Each step calls pow."),
                             wall=(0.03, 0.02, 0.04),
                             cpu=(0.02, 0.02, 0.02), work=bench.Work("w", {}))
    fast = bench.Measurement(toy_case("fast", target=0.01), wall=(0.001,), cpu=(0.001,),
                             work=bench.Work("w", {}))
    free = bench.Measurement(toy_case("free", target=None), wall=(5.0,), cpu=(5.0,), work=bench.Work("w", {}))
    assert (slow.median, slow.best, slow.met) == (0.03, 0.02, False)
    assert fast.met is True and free.met is None
    text = bench.render_markdown([slow, fast, free], bench.machine_info(), command="c", date="2026-01-01",
                                 repeats=3, warmup=1, rounds=1)
    assert "| slow | w | 3 | 30.0 ms | 20.0 ms | 20.0 ms | <= 10.0 ms | **no** |" in text
    assert "| fast | w | 1 | 1.00 ms | 1.00 ms | 1.00 ms | <= 10.0 ms | yes |" in text
    assert "| free | w | 1 | 5,000 ms | 5,000 ms | 5,000 ms | - | no target |" in text
    assert "1 of 2 target(s) met." in text
    assert "The target is missed by slow (30.0 ms, 3.0x the target). Each step calls pow." in text


def test_a_miss_whose_cpu_time_fits_is_put_down_to_waiting_with_the_work_explained(empty_registry):
    waited = bench.Measurement(toy_case("waited", target=0.01, why="Its formula uses sin."), wall=(0.03,),
                               cpu=(0.004,), work=bench.Work("w", {}))
    text = bench.render_markdown([waited], bench.machine_info(), command="c", date="2026-01-01", repeats=1,
                                 warmup=0, rounds=1)
    assert "missed by waited (30.0 ms, 3.0x the target). The CPU time is within the target" in text
    assert "not computing. Where the CPU time goes: Its formula uses sin." in text
    # Two threads: 0.8 s of CPU is 0.4 s each, within 0.5 s, so a 2 s wall time was waiting too.
    shared = bench.Measurement(toy_case("shared", target=0.5, why="shown", threads=2), wall=(2.0,),
                               cpu=(0.8,), work=bench.Work("w", {}))
    busy = bench.Measurement(toy_case("busy", target=0.5, why="shown", threads=2), wall=(2.0,), cpu=(1.2,),
                             work=bench.Work("w", {}))
    text = bench.render_markdown([shared, busy], bench.machine_info(), command="c", date="2026-01-01",
                                 repeats=1, warmup=0, rounds=1)
    assert "by shared (2,000 ms, 4.0x the target). The CPU time shared by its 2 threads (400 ms each)" in text
    assert "by busy (2,000 ms, 4.0x the target). shown" in text


def test_rounds_keep_each_rows_lowest_median(empty_registry, monkeypatch: pytest.MonkeyPatch):
    bench.register(toy_case("a"))
    bench.register(toy_case("b"))
    medians = iter([0.5, 0.1, 0.2, 0.3])  # round 1: a, b; round 2: a, b

    def fake_measure(case, repeats, warmup):
        return bench.Measurement(case, wall=(next(medians),), cpu=(0.0,), work=bench.Work("w", {}))

    monkeypatch.setattr(bench, "measure", fake_measure)
    kept = bench.benchmark(rounds=2)
    assert [(m.case.name, m.median, m.round) for m in kept] == [("a", 0.2, 2), ("b", 0.1, 1)]


def test_write_report_keeps_text_outside_the_markers(tmp_path: Path):
    path = tmp_path / "BENCHMARKS.md"
    old = f"Intro kept.\n{bench.BEGIN_MARKER}\nold numbers\n{bench.END_MARKER}\n## Browser\nkept too\n"
    path.write_text(old)
    bench.write_report(f"{bench.BEGIN_MARKER}\nnew numbers\n{bench.END_MARKER}\n", path)
    assert path.read_text() == (
        f"Intro kept.\n{bench.BEGIN_MARKER}\nnew numbers\n{bench.END_MARKER}\n## Browser\nkept too\n"
    )
    no_markers = tmp_path / "other.md"
    no_markers.write_text("# Benchmarks\nhand-written notes\n")
    bench.write_report(f"{bench.BEGIN_MARKER}\nnew numbers\n{bench.END_MARKER}\n", no_markers)
    assert no_markers.read_text() == (
        f"# Benchmarks\nhand-written notes\n\n{bench.BEGIN_MARKER}\nnew numbers\n{bench.END_MARKER}\n"
    )


# ---------------------------------------------------------------------------------------- command line
def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_no_write_prints_the_table_and_writes_nothing(tmp_path: Path):
    done = run_cli("--quick", "--no-write", "--only", "grid saddle", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "grid saddle" in done.stdout
    assert "grid rosenbrock" not in done.stdout and "grid monkey_saddle" not in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_cli_rejects_a_filter_that_matches_nothing_and_bad_counts(tmp_path: Path):
    done = run_cli("--only", "no such case", cwd=tmp_path)
    assert done.returncode == 2 and "matches no case; cases: grid quadratic" in done.stderr
    done = run_cli("--repeats", "0", cwd=tmp_path)
    assert done.returncode == 2 and "--repeats and --rounds must be >= 1" in done.stderr


# ---------------------------------------------------------------------- the lesson pages' own calls
def test_benchmark_case_is_one_run_call_of_at_least_200_rates(monkeypatch):
    calls = []
    real_run = learning_rate.run
    monkeypatch.setattr(learning_rate, "run",
                        lambda *a, **k: calls.append(a[1].hyperparameters["lr"]) or real_run(*a, **k))
    ((name, work, target, note),) = cases.learning_rate_cases()
    assert "lr sweep" in name and (target is None or target > 0) and "one run call" in note
    result = work()
    assert len(calls) == 1 and np.shape(calls[0]) == (cases.BENCH_SWEEP_LRS,) and len(result.lrs) >= 200


def test_benchmark_case_is_one_run_call_of_a_64_by_64_map(monkeypatch):
    calls = []
    real_run = momentum.run
    monkeypatch.setattr(momentum, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    ((name, work, target, note),) = cases.momentum_cases()
    assert "phase map" in name and (target is None or target > 0) and "one run call" in note
    result = work()
    assert len(calls) == 1 and result.steps_to_tol.shape[0] >= 64 and result.steps_to_tol.shape[1] >= 64


def test_benchmark_cases_compute_the_figures_they_name():
    rows = cases.neural_net_cases()
    assert [target for _, _, target, _ in rows] == [0.5, None]
    for name, work, _, note in rows:
        Z = work()
        side = 101 if "101x101" in name else 51
        assert Z.shape == (side, side) and np.all(np.isfinite(Z)) and note


def test_the_nginx_run_deploys_the_guides_own_configuration_with_only_its_addresses_replaced(tmp_path):
    """bench.load --nginx measures the file docs/DEPLOYMENT.md tells users to deploy: its route-cookie map,
    hash and WebSocket headers stay; the example upstreams and port give way to this run's loopback ones."""
    from bench import nginx

    documented = nginx.documented_config()
    conf = nginx.config_for(["127.0.0.1:9001", "127.0.0.1:9002"], 18080, tmp_path)
    for kept in ("map $cookie_lossviz_route $lossviz_route", "hash $lossviz_route consistent;",
                 "proxy_set_header Upgrade $http_upgrade;", "add_header Set-Cookie \"lossviz_route="):
        assert kept in documented and kept in conf
    assert "server 127.0.0.1:9001;" in conf and "server 127.0.0.1:9002;" in conf
    assert "10.0.0." not in conf and "listen 127.0.0.1:18080;" in conf and "listen 80;" not in conf
    assert conf.count("upstream lossviz {") == 1


def test_the_nginx_run_reads_stickiness_from_the_access_log(tmp_path):
    from bench import nginx

    (tmp_path / "access.log").write_text(
        "- r1 127.0.0.1:9001 200 /\n"
        "r1 r1 127.0.0.1:9001 101 /_stcore/stream\n"
        "- r2 127.0.0.1:9002 200 /\n"
        "r2 r2 127.0.0.1:9001 101 /_stcore/stream\n"  # a route that moved: a session lost
        "- h 127.0.0.1:9002 200 /_stcore/health\n")
    balancer = nginx.Balancer("http://127.0.0.1:1", tmp_path, None)
    assert balancer.routes() == {"routes": 2, "split": ["r2"],
                                 "per_process": {"127.0.0.1:9001": 2, "127.0.0.1:9002": 1}}


# ------------------------------------------------------------------------ the browser benchmark's probes

@pytest.mark.parametrize("path", [p for p in PROBES if p.startswith("pages/")])
def test_each_probe_names_a_slider_and_exactly_one_chart_on_its_page(path):
    """The browser benchmark times a press of the probe's slider to the change of the probe's chart, found
    by its key: a key missing from the page would leave the page unmeasured, and a figure found by type
    and position could be another chart while a fragment reruns (its elements are marked stale)."""
    probe = PROBES[path]
    at = open_page(f"../{path}")
    assert probe.chart and probe.slider_key in [s.key for s in at.slider]
    found, seen = [], 0
    for instance in at.get("component_instance"):
        hit, seen = probe_figure(Element(component_instance=instance.proto), probe, seen)
        found.append(hit)
    assert found.count(True) == 1, found
    untyped = dataclasses.replace(probe, chart="")  # by type and position, as the baseline page is found
    seen, typed = 0, []
    for instance in at.get("component_instance"):
        hit, seen = probe_figure(Element(component_instance=instance.proto), untyped, seen)
        typed.append(hit)
    assert typed.count(True) == 1


def test_a_protocol_rerun_names_the_fragment_a_browser_would_rerun():
    """A slider drawn by a fragment reruns that fragment alone in the browser; the protocol clients (the
    server's share, the load run) must send the same request, not a whole-page rerun."""
    from bench.browser import rerun_message

    message = rerun_message("Momentum", "hash", "slider-id", 0.61, fragment_id="abc")
    assert message.rerun_script.fragment_id == "abc" and message.rerun_script.page_name == "Momentum"
    (state,) = message.rerun_script.widget_states.widgets
    assert state.id == "slider-id" and list(state.double_array_value.data) == [0.61]
    assert rerun_message("Momentum").rerun_script.fragment_id == ""  # the whole page


def test_the_servers_share_is_measured_through_the_reruns_the_server_starts_itself():
    """The protocol client times the server's share of a press. A run can end early for a rerun the server
    starts itself: the entry point handing a new session over to the page, and a fragment rerunning the
    whole page when its control leaves the default scenario (the Explorer's steps, the first press). The
    client read that early end as the run's end, found no slider and reported no share ("—" in the table)."""
    import asyncio

    from bench.browser import PROBES, _free_port, _server_share, start_server, stop_server
    from lossviz.ui.catalog import PAGES

    info = next(p for p in PAGES if p.url_path == "Surface_Explorer")
    port = _free_port()
    server = start_server(port)
    try:
        shares = asyncio.run(_server_share(f"http://127.0.0.1:{port}", info, PROBES[info.path], 3))
    finally:
        stop_server(server)
    assert len(shares) == 3 and all(0 < share < 60_000 for share in shares), shares


def test_the_explorers_load_client_reruns_the_steps_fragment_as_a_browser_does(monkeypatch):
    """The Explorer's steps are drawn by a fragment, which a browser reruns alone; the load client must send
    the same request (the fragment's id), or it measures a whole-page rerun no student causes. Its
    figures are still checked: the session's own start, one point per step."""
    import asyncio

    from bench import load
    from bench.browser import _free_port, start_server, stop_server

    from bench.browser import rerun_message

    sent = []

    def recorded(*args, **kwargs):
        sent.append(kwargs.get("fragment_id", ""))
        return rerun_message(*args, **kwargs)

    monkeypatch.setattr(load, "rerun_message", recorded)
    port = _free_port()
    server = start_server(port)
    try:
        session = load.run_protocol_session(f"http://127.0.0.1:{port}", 0, 0.0, 0.0, min_redraws=3)
        result = asyncio.run(session)
    finally:
        stop_server(server)
    assert result.checked == 3 and not (result.wrong or result.leaks or result.errors), result
    assert sent[0] == "" and len(sent) == 4 and all(sent[1:]), sent  # the page opened whole, then the part

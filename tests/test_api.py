"""The top-level API, ``import lossviz as lv``: names, lv.run as module and function, race, landscapes."""
from __future__ import annotations

import doctest
import html
import importlib
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lossviz as lv
from lossviz import datasets, losses, optimizers, regularizers, schedules, surfaces
from lossviz.lessons import explorer

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter that imports this checkout's lossviz."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


# ------------------------------------------------------------------------------------ import and lazy plot
def test_import_lossviz_loads_neither_plotly_nor_streamlit():
    done = _python("import sys, lossviz as lv; lv.run(lv.surface('booth'), lv.optimizer('sgd', lr=0.05), "
                   "[1.0, 1.0], 5); print(sorted(m for m in ('plotly', 'streamlit', 'kaleido') "
                   "if m in sys.modules))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_module_of_the_numpy_core_loads_plotly_or_streamlit():
    """Every module outside the page kit (lossviz/ui) and the figure builders (lossviz/viz), each imported
    in a fresh interpreter (but ``__main__``, which runs the command line): the core runs where neither is
    installed (ARCHITECTURE's layers)."""
    core = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for path in (ROOT / "lossviz").rglob("*.py")
                  if path.relative_to(ROOT).parts[1] not in ("ui", "viz") and path.name != "__main__.py")
    assert "lossviz.lessons.explorer" in core and "lossviz.cli" in core, core
    done = _python("import importlib, sys\n"
                   f"for name in {core!r}:\n"
                   "    importlib.import_module(name)\n"
                   "    loaded = [m for m in ('plotly', 'streamlit') if m in sys.modules]\n"
                   "    if loaded: print(name, loaded); break\n"
                   "else: print('none')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def test_lv_plot_is_reachable_after_import_and_loads_plotly_then():
    done = _python("import sys, lossviz as lv; before = 'plotly' in sys.modules; "
                   "import lossviz.viz.plot as p; "
                   "print(before, lv.plot is p, 'plotly' in sys.modules, 'plot' in dir(lv))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True", "True"]


def test_lv_plot_without_plotly_says_what_to_install():
    done = _python("import sys; sys.modules['plotly'] = None\nimport lossviz as lv\ntry:\n    lv.plot\n"
                   "except ModuleNotFoundError as exc:\n    print(exc)")
    assert "pip install 'lossviz[plot]'" in done.stdout, done.stderr
    listed = _python("import sys; sys.modules['plotly'] = None\nimport lossviz as lv\n"
                     "print('plot' in dir(lv))")
    assert listed.stdout.strip() == "False", listed.stderr


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'plots'"):
        lv.plots  # noqa: B018


# ------------------------------------------------------------------------------- lossviz.run, both things
def test_lossviz_run_is_the_module_for_every_import_form():
    import lossviz.run as as_module
    from lossviz import run as from_package
    from lossviz.run import Trajectory, run

    module = importlib.import_module("lossviz.run")
    assert as_module is module and from_package is module and lv.run is module
    assert module.Trajectory is Trajectory and module.run is run and callable(run)
    assert sys.modules["lossviz.run"] is module


def test_calling_lv_run_is_calling_the_function():
    from lossviz.run import run

    rosenbrock, adam = lv.surface("rosenbrock"), lv.optimizer("adam", lr=0.05)
    via_module = lv.run(rosenbrock, adam, [-1.5, 2.0], 40, grad_tol=1e-3)
    via_function = run(rosenbrock, adam, np.array([-1.5, 2.0]), 40, grad_tol=1e-3)
    np.testing.assert_array_equal(via_module.params, via_function.params)
    np.testing.assert_array_equal(via_module.loss, via_function.loss)
    schedule = lv.schedule("step", base_lr=0.1, step_size=10, gamma=0.5)
    np.testing.assert_array_equal(lv.run(rosenbrock, adam, [0.0, 0.0], 30, schedule).lr,
                                  run(rosenbrock, adam, [0.0, 0.0], 30, schedule=schedule).lr)


def test_lv_run_shows_the_functions_signature_and_validation():
    import inspect

    parameters = list(inspect.signature(lv.run).parameters)
    assert parameters[:5] == ["objective", "optimizer", "x0", "steps", "schedule"]
    assert "lossviz.run.run(objective" in repr(lv.run)
    with pytest.raises(ValueError, match="steps"):
        lv.run(lv.surface("booth"), lv.optimizer("sgd", lr=0.1), [0.0, 0.0], -1)


def test_patching_the_run_module_by_its_dotted_name_reaches_the_loop(monkeypatch):
    monkeypatch.setattr("lossviz.run.MAX_STEPS", 5)
    with pytest.raises(ValueError, match=r"steps .*\[0, 5\]"):
        lv.run(lv.surface("booth"), lv.optimizer("sgd", lr=0.1), [0.0, 0.0], 10)


def test_a_trajectory_pickles_through_its_module():
    traj = lv.run(lv.surface("booth"), lv.optimizer("sgd", lr=0.05), [1.0, 1.0], 10)
    back = pickle.loads(pickle.dumps(traj))
    np.testing.assert_array_equal(back.params, traj.params)


def test_a_trajectory_prints_in_one_line_with_its_summary():
    """The documented format: Trajectory(1 run x 500 steps, d=2, loss 12.5 -> 0.112, converged no, ...)."""
    traj = lv.run(lv.surface("rosenbrock"), lv.optimizer("sgd", lr=1e-3), [-1.5, 2.0], 500)
    text = repr(traj)
    assert "\n" not in text and len(text) < 200
    found = re.fullmatch(r"Trajectory\(1 run x 500 steps, d=2, loss (\S+) -> (\S+), converged no, "
                         r"diverged no\)", text)
    assert found, text
    assert float(found.group(1)) == pytest.approx(traj.loss[0], rel=1e-2)
    assert float(found.group(2)) == pytest.approx(traj.loss[-1], rel=1e-2)


# ------------------------------------------------------------------------------------------ constructors
def test_constructors_are_the_registries():
    assert lv.surface("rosenbrock", b=10.0).params == surfaces.get("rosenbrock", b=10.0).params
    adam = lv.optimizer("adam", lr=0.01, betas=(0.8, 0.9))
    assert adam.hyperparameters == optimizers.get("adam", lr=0.01, betas=(0.8, 0.9)).hyperparameters
    steps = np.arange(50)
    np.testing.assert_array_equal(lv.schedule("cosine", base_lr=0.1, T_max=50)(steps),
                                  schedules.get("cosine", base_lr=0.1, T_max=50)(steps))
    np.testing.assert_array_equal(lv.dataset("moons", n_samples=30, seed=3).X,
                                  datasets.get("moons", n_samples=30, seed=3).X)
    assert lv.loss("huber", delta=2.0).params == losses.get("huber", delta=2.0).params
    bowl = lv.surface("booth")
    assert float(lv.regularizer("l2", bowl, strength=0.5).f([1.0, 2.0])) == pytest.approx(
        float(regularizers.get("l2", bowl, strength=0.5).f([1.0, 2.0])))


@pytest.mark.parametrize(("name", "data", "params", "dim"), [
    ("linear_regression", ("diabetes", ["bmi"]), {}, 1 + 1),
    ("logistic_regression", ("moons", None), {}, 2 + 1),
    ("softmax_regression", ("iris", None), {}, (4 + 1) * 3),
    ("mlp", ("moons", None), {"hidden": (4,)}, (2 + 1) * 4 + (4 + 1) * 2),
])
def test_model_builds_each_model_on_a_dataset_or_arrays(name, data, params, dim):
    dataset = lv.dataset(data[0])
    dataset = dataset.select(data[1]) if data[1] else dataset
    built = lv.model(name, dataset, **params)
    assert built.dim == dim
    from_arrays = lv.model(name, (dataset.X, dataset.y), **params)
    point = np.linspace(-0.5, 0.5, dim)
    assert float(from_arrays.f(point)) == pytest.approx(float(built.f(point)))


def test_an_mlp_on_a_regression_dataset_takes_the_task_from_it():
    net = lv.model("mlp", lv.dataset("linear", n_samples=40), hidden=(3,))
    assert net.task == "regression" and net.loss.name == "mse"


def test_model_refuses_an_unknown_name_and_bad_data():
    with pytest.raises(ValueError, match="model"):
        lv.model("forest", lv.dataset("moons"))
    with pytest.raises(TypeError, match="data must be a Dataset"):
        lv.model("mlp", np.zeros((3, 2)))


def test_names_lists_every_registry_by_singular_or_plural():
    everything = lv.names()
    assert set(everything) == {"surface", "optimizer", "schedule", "dataset", "model", "loss", "regularizer"}
    assert everything["surface"] == surfaces.names() == lv.names("surfaces")
    assert lv.names("optimizer") == optimizers.names()
    assert lv.names("model") == sorted(lv.MODELS, key=list(lv.MODELS).index)
    for registry, listing in everything.items():
        assert listing, registry
    with pytest.raises(ValueError, match="registry"):
        lv.names("planets")


def test_every_public_name_has_a_docstring_with_an_example():
    for name in lv.__all__:
        if name.startswith("__") or name in ("MODELS", "plot"):
            continue
        doc = getattr(lv, name).__doc__ or ""
        assert ">>>" in doc or (name in ("Race", "ModelLandscape", "Trajectory") and doc), name


@pytest.mark.parametrize("module", ["lossviz", "lossviz.api", "lossviz.viz.plot", "lossviz.viz.plot._render",
                                    "lossviz.cli"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or module == "lossviz.viz.plot._render"


def test_the_readme_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    example = next(b for b in blocks if "import lossviz as lv" in b)
    done = _python(example)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------------------------------- race
def test_a_race_is_each_optimizer_run_from_the_same_start():
    himmelblau = lv.surface("himmelblau")
    adam, heavy = lv.optimizer("adam", lr=0.1), lv.optimizer("sgd", lr=0.005, momentum=0.9)
    race = lv.race(himmelblau, {"Adam": adam, "heavy ball": heavy}, [0.0, -3.0], 120)
    assert list(race) == ["Adam", "heavy ball"] and len(race) == 2
    for label, optimizer in (("Adam", adam), ("heavy ball", heavy)):
        alone = lv.run(himmelblau, optimizer, [0.0, -3.0], 120)
        np.testing.assert_allclose(race[label].params, alone.params, rtol=0, atol=1e-12)
    assert race.x0 == (0.0, -3.0) and race.steps == 120 and race.surface is himmelblau


def test_a_named_racer_races_at_the_explorers_rate_from_the_default_start():
    booth = lv.surface("booth")
    race = lv.race(booth, ["sgd", "adam"], steps=30)
    for name in ("sgd", "adam"):
        lr = explorer.default_lr(booth, name, booth.default_start)
        alone = lv.run(booth, lv.optimizer(name, lr=lr), booth.default_start, 30)
        np.testing.assert_allclose(race[name].params, alone.params, atol=1e-12)


def test_a_race_schedule_sets_the_rate_for_all_or_per_label():
    bowl = lv.surface("quadratic")
    decay = lv.schedule("exponential", base_lr=0.5, gamma=0.95)
    race = lv.race(bowl, {"GD": lv.optimizer("sgd", lr=0.1), "Adam": lv.optimizer("adam", lr=0.1)}, steps=40,
                   schedule={"GD": decay})
    np.testing.assert_allclose(race["GD"].lr, decay(np.arange(40)))
    alone = lv.run(bowl, lv.optimizer("sgd", lr=0.1), bowl.default_start, 40, decay)
    np.testing.assert_allclose(race["GD"].params, alone.params, atol=1e-12)
    np.testing.assert_allclose(race["Adam"].lr, 0.1)
    everyone = lv.race(bowl, ["sgd", "adam"], steps=10, schedule=decay)
    for label in everyone:
        np.testing.assert_allclose(everyone[label].lr, decay(np.arange(10)))


@pytest.mark.parametrize(("racers", "kwargs", "error", "message"), [
    ({"a": lv.optimizer("sgd", lr=np.array([0.1, 0.2]))}, {}, ValueError, "per-run"),
    ({"a": 3}, {}, TypeError, "racer 'a' must be an optimizer"),
    ({}, {}, ValueError, "racers"),
    ("sgd", {}, ValueError, "racers"),
    ({"a": "sgd"}, {"schedule": {"b": lv.schedule("constant", base_lr=0.1)}}, ValueError, "'b'"),
    ({"a": "sgd"}, {"steps": 0}, ValueError, "steps"),
    ({"a": "sgd"}, {"x0": [0.0]}, ValueError, "x0"),
    ({f"r{i}": "sgd" for i in range(7)}, {}, ValueError, "1 to 6"),
])
def test_a_race_refuses_what_it_cannot_run(racers, kwargs, error, message):
    with pytest.raises(error, match=message):
        lv.race(lv.surface("booth"), racers, **kwargs)


def _tolerance(surface) -> float:
    return 1e-3 * max(1.0, max(b - a for a, b in surface.domain) / 10)


def test_a_race_prints_one_line_per_racer_with_how_it_ended():
    bowl = lv.surface("quadratic", condition_number=10.0, rotation=30.0)
    race = lv.race(bowl, {"steady": lv.optimizer("sgd", lr=1.0), "too fast": lv.optimizer("sgd", lr=2.1),
                          "slow": lv.optimizer("sgd", lr=0.01)}, [-2.5, 2.0], 150)
    lines = repr(race).splitlines()
    assert lines[0] == "Race on Ill-conditioned quadratic from (-2.5, 2) for 150 steps:"
    assert len(lines) == 4
    distance = np.linalg.norm(race["steady"].params, axis=1)  # the minimum is the origin
    assert distance[-1] < _tolerance(bowl) < distance[0]
    reached = int(np.argmax(distance < _tolerance(bowl)))
    assert lines[1].split(",")[-1].strip() == f"reached the global minimum at step {reached}"
    assert lines[2].endswith(f"diverged at step {race['too fast'].diverged_at}")
    assert lines[3].endswith("still on its way")
    assert re.match(r"  slow +loss \S+ -> \S+, ", lines[3])


def test_a_race_summary_and_table_hold_every_racer():
    bowl = lv.surface("quadratic", condition_number=10.0, rotation=30.0)
    race = lv.race(bowl, {"<b>GD</b>": lv.optimizer("sgd", lr=1.0), "too fast": lv.optimizer("sgd", lr=2.1)},
                   [-2.5, 2.0], 40)
    summary = race.summary()
    assert list(summary.index) == ["<b>GD</b>", "too fast"]
    gd, fast = race["<b>GD</b>"], race["too fast"]
    assert summary.loc["<b>GD</b>", "final loss"] == gd.loss[-1]
    assert summary.loc["too fast", "final loss"] == fast.loss[fast.diverged_at]
    assert summary.loc["too fast", "diverged at"] == fast.diverged_at
    assert summary.loc["<b>GD</b>", "distance to minimum"] == pytest.approx(np.linalg.norm(gd.params[-1]))
    page = race._repr_html_()
    assert "<table" in page and page.count("<tr>") >= 3
    assert html.escape("<b>GD</b>") in page and "<b>GD</b>" not in page.replace("<b>Race", "")
    frame = race.to_frame()
    assert len(frame) == 2 * 41 and list(frame.columns[:4]) == ["racer", "step", "x", "y"]
    pd.testing.assert_series_equal(frame[frame.racer == "too fast"].loss.reset_index(drop=True),
                                   pd.Series(fast.loss, name="loss"))


# ---------------------------------------------------------------------------------------- model landscape
def test_the_landscape_of_a_two_parameter_model_is_its_own_plane():
    data = lv.dataset("diabetes").select(["bmi"])
    line = lv.model("linear_regression", data)
    fit = lv.run(line, lv.optimizer("sgd", lr=0.3), [-1.0, 1.0], 30)
    land = lv.model_landscape(line, trajectories={"GD": fit}, resolution=15)
    assert land.kind == "exact" and land.axis_titles == ("slope", "intercept")
    for i, j in ((0, 0), (3, 11), (14, 14)):
        assert land.Z[i, j] == pytest.approx(float(line.f([land.xs[j], land.ys[i]])))
    label, coords, loss = land.paths[0]
    assert label == "GD"
    np.testing.assert_array_equal(coords, fit.params)
    np.testing.assert_array_equal(loss, fit.loss)
    finite = fit.params[np.all(np.isfinite(fit.params), axis=1)]
    assert land.xs[0] < finite[:, 0].min() and land.xs[-1] > finite[:, 0].max()
    assert land.ys[0] < finite[:, 1].min() and land.ys[-1] > finite[:, 1].max()
    around = lv.model_landscape(line, center=[0.5, 0.0], span=2.0, resolution=5)
    np.testing.assert_allclose(around.xs, [-1.5, -0.5, 0.5, 1.5, 2.5])


def test_the_pca_landscape_of_a_network_holds_its_path():
    data = lv.dataset("moons", n_samples=80)
    net = lv.model("mlp", data, hidden=(5,))
    fit = lv.run(net, lv.optimizer("adam", lr=0.05), net.init_params(seed=1), 40)
    land = lv.model_landscape(net, trajectories=fit, resolution=9)
    assert land.kind == "pca" and land.Z.shape == (len(land.ys), len(land.xs))
    np.testing.assert_array_equal(land.center, fit.params[-1])
    np.testing.assert_allclose(land.directions @ land.directions.T, np.eye(2), atol=1e-10)
    assert 0 < land.explained.sum() <= 1 + 1e-12
    coords = land.paths[0][1]
    np.testing.assert_allclose(coords, (fit.params - fit.params[-1]) @ land.directions.T, atol=1e-10)
    i, j = 4, 2
    point = land.center + land.xs[j] * land.directions[0] + land.ys[i] * land.directions[1]
    assert land.Z[i, j] == pytest.approx(float(net.f(point)), rel=1e-4)


def test_a_random_landscape_is_the_loss_along_its_directions():
    net = lv.model("mlp", lv.dataset("xor", n_samples=60), hidden=(4,))
    land = lv.model_landscape(net, span=0.5, resolution=7, seed=2)
    assert land.kind == "random" and land.paths == ()
    np.testing.assert_array_equal(land.center, net.init_params(seed=2))
    i, j = 1, 5
    point = land.center + land.xs[j] * land.directions[0] + land.ys[i] * land.directions[1]
    assert land.Z[i, j] == pytest.approx(float(net.f(point)), rel=1e-4)
    given = np.stack([np.eye(net.dim)[0], np.eye(net.dim)[1]])
    explicit = lv.model_landscape(net, center=np.zeros(net.dim), directions=given, span=1.0, resolution=3)
    assert explicit.Z[0, 2] == pytest.approx(float(net.f(np.r_[1.0, -1.0, np.zeros(net.dim - 2)])), rel=1e-4)
    assert "random" in repr(explicit) and "7 x 7" in repr(land)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"directions": "exact"}, "2 parameters"),
    ({"directions": "pca"}, "needs trajectories"),
    ({"directions": "sideways"}, "directions"),
    ({"directions": np.zeros((2, 3))}, r"shape \(2, 17\)"),
    ({"resolution": 1}, "resolution"),
    ({"span": 0.0}, "span"),
    ({"center": [0.0]}, "center"),
])
def test_model_landscape_refuses_bad_settings(kwargs, message):
    net = lv.model("mlp", lv.dataset("moons", n_samples=40), hidden=(3,))
    assert net.dim == 17
    with pytest.raises(ValueError, match=message):
        lv.model_landscape(net, **kwargs)


def test_model_landscape_refuses_a_path_of_another_model():
    line = lv.model("linear_regression", lv.dataset("linear", n_samples=30).select(0))
    other = lv.run(lv.surface("booth"), lv.optimizer("sgd", lr=0.01), [0.0, 0.0], 3)
    three = lv.run(lv.model("linear_regression", lv.dataset("diabetes").select([0, 1])),
                   lv.optimizer("sgd", lr=0.01), [0.0, 0.0, 0.0], 3)
    assert lv.model_landscape(line, trajectories=other, resolution=3).paths[0][0] == "run"
    with pytest.raises(ValueError, match="d=3"):
        lv.model_landscape(line, trajectories=three)
    with pytest.raises(TypeError, match="Trajectory"):
        lv.model_landscape(line, trajectories={"a": np.zeros((3, 2))})

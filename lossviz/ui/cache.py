"""Cached calls into the core, defined once for every page. Only hashable primitives go in.

Every cache is bounded (``max_entries``), so a classroom trying settings cannot grow memory without end,
and results shared between sessions are read-only. Streamlit's caches compute a key once when several
sessions miss it at the same time (they wait for the first); :func:`lossviz.ui.progress_cache.cached`
does the same for the computations that report progress.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import streamlit as st

from lossviz import analysis, landscape
from lossviz.lessons import batch_size, explorer, regularization
from lossviz.lessons import neural_net as nl
from lossviz.settings import OptimizerSetting, build_optimizer
from lossviz.surfaces import Surface
from lossviz.ui import budget, controls, progress_cache, surface_picker
from lossviz.ui.url import Field

__all__ = ["build_surface", "surface_grid", "minima", "curvature", "reference_minimum", "run_race",
           "race_frames", "tuned", "Training", "network", "network_spec", "network_options",
           "network_training", "network_affordable", "network_runs", "network_views", "network_stages",
           "network_decision", "network_script", "warm_network", "NETWORK_STORES",
           "regularization_landscape", "regularization_view", "regularization_decay", "batch_problem",
           "batch_paths", "batch_balls", "batch_clouds", "warm_pages"]


@st.cache_resource(max_entries=64, show_spinner=False)
def build_surface(key: tuple) -> Surface:
    """The surface a :class:`lossviz.ui.surface_picker.SurfaceChoice` key names."""
    return surface_picker.build(key)


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(key: tuple, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The surface on a ``resolution`` x ``resolution`` grid over its view: ``xs, ys, Z``."""
    surface = build_surface(key)
    xs, ys = landscape.axes_for_domain(surface.domain, resolution)
    return xs, ys, landscape.grid(surface, xs, ys)


@st.cache_resource(max_entries=64, show_spinner=False)
def minima(key: tuple) -> explorer.Minima:
    """The surface's minima, found numerically for a typed formula."""
    return explorer.find_minima(build_surface(key))


@st.cache_resource(max_entries=32, show_spinner=False)
def curvature(key: tuple, start: tuple[float, float]) -> analysis.Curvature:
    """The Hessian spectrum at the minimum nearest the start (found numerically for a typed formula)."""
    return analysis.reference_curvature(build_surface(key), np.array(start), find_minimum=True)


def reference_minimum(key: tuple, start: tuple[float, float]) -> tuple[np.ndarray, float]:
    """The minima a page draws, ``(m, 2)``, and the loss its gaps are measured from: the surface's own, or
    for a typed formula (which states none) the local minimum :func:`curvature` found from ``start``."""
    surface, point = build_surface(key), curvature(key, start).point
    if len(surface.minima) and surface.min_value is not None:
        return surface.minima, float(surface.min_value)
    return point[None], float(surface.f(point))


@st.cache_resource(max_entries=128, show_spinner=False)
def run_race(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
             steps: int) -> list[explorer.RaceEntry]:
    """The race for these settings (entries are read-only, so the cache shares them across sessions)."""
    return explorer.race(build_surface(key), list(settings), start, steps, minima(key))


@st.cache_resource(max_entries=32, show_spinner=False)
def race_frames(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
                steps: int) -> np.ndarray:
    """Every racer's path at every learning-rate multiple (the Explorer's scrubber), read-only."""
    return explorer.lr_frames(build_surface(key), list(settings), start, steps)


@st.cache_resource(max_entries=32, show_spinner="Sweeping each racer's learning rate…")
def tuned(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
          steps: int) -> tuple[tuple[OptimizerSetting, ...], tuple]:
    """Each racer at its best learning rate (the Explorer's fair race): settings and their sweeps."""
    pairs = explorer.tune(build_surface(key), list(settings), start, steps)
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


class Race(NamedTuple):
    """The Explorer's race as its page draws it: the surface, its grid and minima, the settings raced (each
    at its best rate when tuned), each racer's rate sweep (tuned only), the runs and the scrubber's frames."""

    surface: Surface
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray
    minima: explorer.Minima
    settings: tuple[OptimizerSetting, ...]
    sweeps: tuple
    entries: list[explorer.RaceEntry]
    frames: np.ndarray


def explorer_race(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float], steps: int,
                  tune: bool) -> Race | None:
    """The Explorer's race for these settings, or None when it is over the page's work budget
    (:func:`lossviz.ui.budget.affordable` has then said which setting to lower)."""
    surface, racers = build_surface(key), len(settings)
    points = racers * (len(explorer.LR_MULTIPLIERS) + 1 + (64 if tune else 0))
    work = budget.Estimate(budget.run_seconds(surface, steps, calls=(3 if tune else 2) * racers,
                                              points=points),
                           knobs=(budget.Knob("steps", steps), budget.Knob("optimizers racing", racers)))
    if not budget.affordable(work):
        return None
    xs, ys, Z = surface_grid(key, 81)
    settings, sweeps = tuned(key, settings, start, steps) if tune else (settings, ())
    return Race(surface, xs, ys, Z, minima(key), settings, sweeps, run_race(key, settings, start, steps),
                race_frames(key, settings, start, steps))


# ----------------------------------------------------------------------- the Neural net page's stages
# Training, then each view, coarse first and refined after (lossviz.lessons.neural_net.view_settings), each
# in a bounded store shared by every session (progress_cache: single flight, progress bars allowed).
NETWORK_STORES = ("nn_model", "nn_train", "nn_views", "nn_script")
NETWORK_VIEWS = ("interpolation", "slices", "plane", "sharpness")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Training:
    """What a network's training depends on, hashable: the model (``build_model``'s arguments, in
    :func:`network`'s order), the optimizers with every hyperparameter spelled out and no label (so
    equal settings share one training, however a page named them), the batch sizes (0: full batch), the
    steps and the initialization seed."""

    spec: tuple
    settings: tuple[OptimizerSetting, ...]
    batches: tuple[int, ...]
    steps: int
    init_seed: int


def network_spec(value: Callable[[str], object]) -> tuple:
    """The model's settings from the page's link values (``value(key)``), in :func:`network`'s order."""
    return (str(value("dataset")), int(value("n")), float(value("noise")), int(value("dseed")),
            (int(value("width")),) * int(value("layers")), str(value("act")), str(value("init")),
            float(value("iscale")))


def network_options(value: Callable[[str], object]) -> dict:
    """The views' settings (:func:`network_views`' keywords) from the page's link values."""
    return {"focus": int(value("focus")) - 1, "span": float(value("span")), "resolution": int(value("res")),
            "direction_seed": int(value("dirseed")), "biases": str(value("biases")),
            "sharpness_points": int(value("sharp"))}


def network(spec: tuple) -> tuple:
    """The model and dataset of ``spec`` = (dataset, samples, noise, data seed, hidden widths, activation,
    initialization, initialization scale)."""
    name, n, noise, seed, hidden, activation, init, scale = spec
    return progress_cache.cached("nn_model", spec, lambda: nl.build_model(
        name, n_samples=n, noise=noise, data_seed=seed, hidden=tuple(hidden), activation=activation,
        init=init, init_scale=scale), max_entries=16)


def network_training(spec: tuple, runs: Sequence[tuple[OptimizerSetting, int]], steps: int,
                     init_seed: int) -> Training:
    """The :class:`Training` key of ``runs``, (optimizer setting, batch size) pairs (a ValueError names a
    bad hyperparameter)."""
    n = network(spec)[0].n_samples
    full = tuple(OptimizerSetting(s.name, build_optimizer(s).hyperparameters, s.schedule, s.schedule_params)
                 for s, _ in runs)
    return Training(tuple(spec), full, tuple(int(b) if 0 < int(b) < n else 0 for _, b in runs), int(steps),
                    int(init_seed))


# The page's settings the work of each stage grows with, most effective first: training with the coarse
# views (the first rerun), then the refined views (the second).
NETWORK_KNOBS = (("steps", "width", "runs", "layers", "n"), ("res", "sharp", "width", "n"))


def network_affordable(value: Callable[[str], object], runs: Sequence[tuple[OptimizerSetting, int]],
                       fields: Mapping[str, Field]) -> bool:
    """Whether a Neural net page open fits the work budget; if not, a refusal names the settings to lower
    (``fields``: the page's link fields, for their labels and lowest values) and the value of each that fits.

    A page open is two reruns, training with the coarse views then the refined views (:func:`nl.work`),
    and each must fit. A value advised is found by re-estimating the work with it, so it fits both.
    """
    model, _ = network(network_spec(value))

    def cost(changed: Mapping[str, float]) -> nl.Work:
        get = lambda key: changed.get(key, value(key))  # noqa: E731
        size = (model.n_samples if value("dataset") == "iris" else int(get("n")),
                nl.weight_count(model, (int(get("width")),) * int(get("layers"))))
        chosen = runs[: int(get("runs"))]
        return nl.work(size, [s for s, _ in chosen], int(get("steps")), [b for _, b in chosen],
                       resolution=int(get("res")), sharpness_points=int(get("sharp")))

    def fits(knob: budget.Knob, lowered: float) -> bool:
        work = cost({next(k for k, f in fields.items() if f.title == knob.label): lowered})
        return max(work.train + work.coarse, work.refined) <= budget.SECONDS and work.bytes <= budget.BYTES

    work = cost({})
    stages = (budget.Estimate(work.train + work.coarse, work.bytes, _knobs(NETWORK_KNOBS[0], value, fields)),
              budget.Estimate(work.refined, 0.0, _knobs(NETWORK_KNOBS[1], value, fields)))
    return all(budget.affordable(stage, jointly=True, fits=fits) for stage in stages)


def _knobs(keys: Sequence[str], value: Callable[[str], object], fields: Mapping[str, Field]) -> tuple:
    skip = {"n"} if value("dataset") == "iris" else set()  # iris has its 150 flowers
    return tuple(budget.Knob(fields[k].title, float(value(k)), fields[k].low) for k in keys if k not in skip)


def network_runs(training: Training, labels: Sequence[str] = (), progress: Progress | None = None) -> list:
    """The trained runs (read-only, shared), named ``labels``."""
    model, _ = network(training.spec)
    runs = progress_cache.cached("nn_train", training, lambda: nl.train(
        model, training.settings, training.steps, init_seed=training.init_seed, batch_sizes=training.batches,
        progress=None if progress is None else (lambda f: progress(f, "Training the network…"))),
        max_entries=4)
    if not labels:
        return list(runs)
    return [replace(r, label=name, setting=replace(r.setting, label=name)) for r, name in zip(runs, labels)]


def _view_options(name: str, focus: int, span: float, direction_seed: int, biases: str) -> dict:
    return {"interpolation": {}, "slices": {"span": span, "direction_seed": direction_seed, "biases": biases},
            "plane": {"focus": focus}, "sharpness": {}}[name]


def _network_view(training: Training, name: str, options: dict, refine: bool = False,
                  progress: Progress | None = None) -> tuple[object, bool]:
    """View ``name`` (one of NETWORK_VIEWS) and whether it is the refined one: the refined view where it is
    stored already, else the coarse one, computed now if need be; ``refine=True`` computes the refined one.
    ``options``: :func:`network_options`."""
    focus, span, resolution, direction_seed, biases, sharpness_points = (options[k] for k in (
        "focus", "span", "resolution", "direction_seed", "biases", "sharpness_points"))
    stages = {stage: nl.view_settings(stage, resolution=resolution, sharpness_points=sharpness_points)[name]
              for stage in nl.STAGES}
    view_options = _view_options(name, focus, span, direction_seed, biases)
    keys = {stage: (training, name, tuple(sorted((view_options | stages[stage]).items())))
            for stage in nl.STAGES}
    view = progress_cache.peek("nn_views", keys["refined"])
    if view is not None:
        return view, True
    stage, index = "refined" if refine else "coarse", NETWORK_VIEWS.index(name)
    words = f"{'Refining' if refine else 'Computing'} the views: {name}…"
    report = {} if progress is None or name == "interpolation" else {"progress": (
        lambda f: progress((index + f) / len(NETWORK_VIEWS), words))}
    model, _ = network(training.spec)
    return progress_cache.cached("nn_views", keys[stage], lambda: getattr(nl, f"{name}_view")(
        model, network_runs(training), **view_options, **stages[stage], **report), max_entries=64), refine


def network_views(training: Training, *, focus: int, span: float, resolution: int, direction_seed: int,
                  biases: str, sharpness_points: int, refine: bool = False,
                  progress: Progress | None = None) -> tuple[dict, bool]:
    """The four landscape views by name, and whether all of them are the refined ones.

    Each is the refined view where it is stored already, else the coarse one, computed now if need be;
    ``refine=True`` computes the refined ones. Each is stored under the training and its own settings.
    """
    options = {"focus": focus, "span": span, "resolution": resolution, "direction_seed": direction_seed,
               "biases": biases, "sharpness_points": sharpness_points}
    found = {name: _network_view(training, name, options, refine, progress) for name in NETWORK_VIEWS}
    return {name: view for name, (view, _) in found.items()}, all(done for _, done in found.values())


class _Views(Mapping):
    """The four views by name, each computed when the page first asks for it: the page draws a view's
    charts while the next view is computed (its browser drawing the charts above meanwhile), instead of
    drawing all of them after all are computed. ``finished`` calls ``done`` once all four are in hand."""

    def __init__(self, training: Training, options: dict, progress: Progress, done: Callable[[], None]):
        self._training, self._options, self._progress, self._done = training, options, progress, done
        self._views: dict[str, tuple[object, bool]] = {}

    def __getitem__(self, name: str):
        if name not in NETWORK_VIEWS:
            raise KeyError(name)
        if name not in self._views:
            self._views[name] = _network_view(self._training, name, self._options, progress=self._progress)
            if len(self._views) == len(NETWORK_VIEWS):
                self._done()
        return self._views[name][0]

    def __iter__(self):
        return iter(NETWORK_VIEWS)

    def __len__(self) -> int:
        return len(NETWORK_VIEWS)

    def refined(self) -> bool:
        """Whether every view is the refined one (each computed now if not yet)."""
        return all(self[name] is not None and self._views[name][1] for name in NETWORK_VIEWS)


def network_decision(training: Training, step: int):
    """What each run's network predicts over its inputs at ``step`` (:func:`nl.decision_view`, refined)."""
    model, _ = network(training.spec)
    return progress_cache.cached("nn_views", (training, "decision", step), lambda: nl.decision_view(
        model, network_runs(training), step, **nl.REFINED["decision"]), max_entries=64)


def network_script(training: Training, labels: Sequence[str]) -> nl.TorchScript:
    """The PyTorch script that trains the runs as the page did and prints their final numbers."""
    model, _ = network(training.spec)
    return progress_cache.cached("nn_script", (training, tuple(labels)), lambda: nl.torch_script(
        model, network_runs(training, labels)), max_entries=8)


def network_stages(training: Training, labels: Sequence[str],
                   options: dict) -> tuple[list, Mapping, Callable]:
    """The Neural net page's runs and views, with a progress bar while they are computed: each view the
    refined one where it is stored, else the coarse one.

    Returns ``(runs, views, refine)``. ``views`` computes each view when the page first asks for it, so a
    retrained page sends its charts as their views are ready. Call ``refine()`` last on the page: when some
    view was coarse, it computes the refined ones (the bar shows meanwhile, under the coarse pictures) and
    reruns the page, which then draws them in place; once per picture, and nothing when every view is
    refined.
    """
    bar = st.empty()
    progress = lambda f, words: bar.progress(min(f, 1.0), words)  # noqa: E731
    runs = network_runs(training, labels, progress)
    views = _Views(training, options, progress, bar.empty)

    def refine() -> None:
        picture = (training, tuple(sorted(options.items())))
        if views.refined() or st.session_state.get("_network_refined") == picture:
            return
        st.session_state["_network_refined"] = picture
        network_views(training, **options, refine=True, progress=progress)
        st.rerun()

    return runs, views, refine


def _network_default_visit() -> None:
    """What a visit to the Neural net page computes at its default scenario, in the page's order."""
    values = nl.PAGE_SCENARIOS["large_lr"].settings
    runs = [(s, values.get(f"bs{i}", 0)) for i, s in enumerate(values["optimizers"], 1)]
    training = network_training(network_spec(values.get), runs, values["steps"], values["iseed"])
    labels = [controls.slot_label(i, s.name, dict(s.hyperparameters), s.schedule)
              for i, (s, _) in enumerate(runs, 1)]
    network_runs(training)
    network_views(training, **network_options(values.get))
    network_decision(training, values["step"])
    network_script(training, labels)
    network_views(training, **network_options(values.get), refine=True)


def warm_network():
    """Compute the Neural net page's default visit into its stores, once per server process, in the
    background: the first visitor then finds it done (or joins the computation under way). Returns the
    thread, or None when it was started before."""
    return progress_cache.in_background("neural_net", _network_default_visit, NETWORK_STORES)


# ----------------------------------------------------------------- the other pages' slow first visits
# Shared by the page and :func:`warm_pages`: one function, so the key the warm-up fills is the page's.
@st.cache_data(max_entries=16, show_spinner="Solving the regularization paths…")
def regularization_landscape(features: tuple, l1_ratio: float) -> regularization.Landscape:
    """The Regularization page's two-weight landscape with its exact paths (0.8 s here)."""
    return regularization.landscape_of(features, l1_ratio=l1_ratio)


@st.cache_data(max_entries=64, show_spinner=False)
def regularization_view(features: tuple, l1_ratio: float, penalty: str,
                        strength: float) -> regularization.RegularizationView:
    """The Regularization page's view at one strength λ (and every strength, for its scrubber)."""
    return regularization.at_strength(regularization_landscape(features, l1_ratio), penalty, strength)


@st.cache_resource(max_entries=32, show_spinner="Running SGD, Adam and AdamW…")
def regularization_decay(features: tuple, decay: float, lr: float, steps: int, start: tuple) -> tuple:
    """The Regularization page's weight-decay race (SGD, Adam + L2, AdamW) and the map under it."""
    data = regularization.load_data(features)
    result = regularization.weight_decay_comparison(data.X, data.y, decay, lr=lr, steps=steps, x0=start,
                                                    param_names=tuple(f"w_{n}" for n in features))
    return result, regularization.decay_landscape(data.X, data.y, result)


@st.cache_resource(max_entries=8, show_spinner=False)
def batch_problem(name: str) -> batch_size.Solved:
    """The Batch size page's problem, solved (its minimum, for the noise balls; 0.75 s here)."""
    return batch_size.solve(name)


@st.cache_data(max_entries=32, show_spinner=False)
def _batch_paths_grid(name: str, start: tuple) -> tuple:
    solved = batch_problem(name)
    return batch_size.paths_grid(solved.objective, solved.minimum, start)


@st.cache_data(max_entries=32, show_spinner="Running SGD at every batch size…")
def batch_paths(name: str, sampling: str, lr: float, steps: int, seed: int,
                start: tuple) -> batch_size.PathsView:
    """The Batch size page's paths: SGD at every batch size, on the map under them. The map is kept apart
    (it depends on the problem and the start only), so moving the steps, the rate or the seed runs SGD
    again and no more: the map was a third of a steps press on the server."""
    solved = batch_problem(name)
    return batch_size.paths_view(solved.objective, solved.minimum, lr, steps, start, seed=seed,
                                 sampling=sampling, grid=_batch_paths_grid(name, start))


@st.cache_data(max_entries=32, show_spinner="Measuring noise balls at four learning rates…")
def batch_balls(name: str, sampling: str, lr: float, sizes: tuple, seed: int) -> batch_size.BallsView:
    """The Batch size page's noise balls at four learning rates around ``lr`` (0.3 s here)."""
    solved = batch_problem(name)
    return batch_size.balls_view(solved.objective, solved.minimum, lr, sizes, seed=seed, sampling=sampling)


@st.cache_data(max_entries=32, show_spinner="Drawing mini-batches…")
def batch_clouds(name: str, sampling: str, sizes: tuple, point: tuple, seed: int) -> list:
    """Batch size's gradient clouds: one per batch size, at ``point``."""
    return batch_size.gradient_clouds(batch_problem(name).objective, point, sizes, seed=seed,
                                      sampling=sampling)


def warm_pages() -> None:
    """Compute the slow part of the Regularization and Batch size pages' default visits (their default
    scenarios, with the values the pages pass), so that the first visitor after a start finds it done:
    about 1.9 s here, which made those pages' first render a second slower than the others'."""
    reg = regularization.SCENARIOS[regularization.DEFAULT_SCENARIO].settings
    regularization_landscape((str(reg["f1"]), str(reg["f2"])), float(reg["l1_ratio"]))
    batch = batch_size.SCENARIOS[batch_size.DEFAULT_SCENARIO].settings
    batch_balls(str(batch["problem"]), str(batch["sampling"]), float(batch["lr"]),
                tuple(sorted(int(b) for b in batch["batches"])), int(batch["seed"]))

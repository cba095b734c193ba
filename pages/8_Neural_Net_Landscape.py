"""Neural net landscape: a small MLP's loss on 1-D and 2-D slices, its path on a PCA plane, its sharpness."""
import streamlit as st

from lossviz import landscape
from lossviz.lessons import neural_net as nl
from lossviz import torch_export
from lossviz.models import ACTIVATIONS, INITS
from lossviz.settings import OptimizerSetting
from lossviz.ui import cache, controls, nav, progress_cache, url
from lossviz.ui.errors import shown_errors
from lossviz.viz import neural_net as nnviz
from lossviz.viz.landscape import Path

st.set_page_config(page_title="Neural net landscape · lossviz", layout="wide")
nav.sidebar()
st.title("Neural net landscape")
st.markdown(
    "A network with a thousand weights has a thousand-dimensional loss landscape, and every picture of it "
    "is a **cut**. This page trains a small network, then shows the cuts researchers use: the loss on the "
    "straight line from the initial to the trained weights (a); a 2-D slice around the trained weights along "
    "two random directions rescaled unit by unit to the weights' size, *filter-normalized* (Li et al. 2018), "
    "so that slices around different minima compare (b); the plane that best fits the training paths, with a "
    "check of how much that picture leaves out (c); the **sharpness**, the largest Hessian eigenvalue, along "
    "training against the 2/lr limit of gradient descent (d); and what the network predicts at any step (e)."
)

MAX_SLOTS = 3
BASE_FIELDS = [
    url.choice_field("dataset", "moons", nl.DATASETS), url.int_field("n", 1000, 50, 2000),
    url.float_field("noise", 0.2, 0.0, 1.0), url.int_field("dseed", 0, 0, 10_000),
    url.int_field("layers", 2, 1, 4), url.int_field("width", 32, 2, 128),
    url.choice_field("act", "tanh", ACTIVATIONS), url.choice_field("init", "he", INITS),
    url.float_field("iscale", 1.0, 0.01, 10.0), url.int_field("iseed", 0, 0, 10_000),
    url.int_field("steps", 500, 10, 3000), url.int_field("runs", 2, 1, MAX_SLOTS),
    url.float_field("span", 1.0, 0.05, 5.0), url.int_field("res", 51, 11, 101),
    url.int_field("dirseed", 0, 0, 10_000), url.choice_field("biases", "zero", landscape.BIAS_MODES),
    url.int_field("sharp", 20, 5, 50), url.int_field("focus", 1, 1, MAX_SLOTS),
    url.int_field("step", 500, 0, 3000),
]
FIELDS = BASE_FIELDS + [f for slot in range(1, MAX_SLOTS + 1)
                        for f in (*controls.slot_fields(slot), url.int_field(f"bs{slot}", 0, 0, 2000))]
BIAS_WORDS = {"zero": "fixed (direction 0)", "filter": "part of each unit's filter"}


def scenario_values(name: str) -> dict:
    sc = nl.get_scenario(name)
    values = {"dataset": sc.dataset, "n": sc.n_samples, "noise": sc.noise, "layers": len(sc.hidden),
              "width": sc.hidden[0], "act": sc.activation, "init": sc.init, "iscale": sc.init_scale,
              "steps": sc.steps, "runs": len(sc.optimizers), "step": sc.steps, "focus": 1}
    for slot, (setting, batch) in enumerate(zip(sc.optimizers, sc.batch_sizes), start=1):
        values |= controls.scenario_values(slot, setting) | {f"bs{slot}": batch}
    return values


notices = url.seed_from_url("nn", FIELDS)
if not st.query_params and "nn_scenario" not in st.session_state:
    url.apply_values(scenario_values("large_lr") | {"nn_scenario": "large_lr"})
for notice in notices:
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    pick = st.selectbox("scenario", ["—", *nl.scenario_names()], key="nn_pick",
                        format_func=lambda n: n if n == "—" else nl.get_scenario(n).title)
    if st.button("Load scenario", disabled=pick == "—", width="stretch"):
        url.apply_values(scenario_values(pick) | {"nn_scenario": pick})
        st.rerun()
    st.header("Data")
    dataset = st.selectbox("dataset", nl.DATASETS, key="dataset")
    fixed = dataset == "iris"
    n_samples = st.slider("samples", 50, 2000, step=50, key="n", disabled=fixed)
    noise = st.slider("noise", 0.0, 1.0, step=0.05, key="noise", disabled=fixed)
    data_seed = st.number_input("data seed", 0, 10_000, key="dseed", disabled=fixed)
    st.header("Network")
    layers = st.slider("hidden layers", 1, 4, key="layers")
    width = st.slider("units per hidden layer", 2, 128, key="width")
    activation = st.selectbox("activation", ACTIVATIONS, key="act")
    init = st.selectbox("initialization", INITS, key="init")
    init_scale = st.slider("initialization scale", 0.01, 10.0, step=0.01, key="iscale",
                           help="Multiplies the standard deviation of the initialization scheme.")
    init_seed = st.number_input("initialization seed", 0, 10_000, key="iseed")
    st.header("Training")
    steps = st.slider("steps", 10, 3000, step=10, key="steps")
    n_runs = st.slider("optimizers (same initial weights)", 1, MAX_SLOTS, key="runs")
    settings, batches = [], []
    for slot in range(1, n_runs + 1):
        settings.append(controls.optimizer_slot(slot, steps, st))
        batches.append(int(st.number_input(f"batch size of optimizer {slot} (0 = full batch)", 0, 2000,
                                           key=f"bs{slot}")))
    st.header("Landscape")
    span = st.slider("slice span (± in filter-normalized units)", 0.05, 5.0, step=0.05, key="span")
    resolution = st.slider("grid resolution (points per axis)", 11, 101, step=2, key="res")
    direction_seed = st.number_input("direction seed", 0, 10_000, key="dirseed")
    biases = st.selectbox("biases in the directions", landscape.BIAS_MODES, key="biases", format_func=BIAS_WORDS.get)
    sharp_points = st.slider("sharpness: steps measured", 5, 50, key="sharp")
    st.session_state["focus"] = min(st.session_state.get("focus", 1), n_runs)
    focus = st.selectbox("PCA plane through the weights of", list(range(1, n_runs + 1)), key="focus",
                         format_func=lambda i: settings[i - 1].label)

active = {f.key for f in BASE_FIELDS}
active |= {k for s in range(1, n_runs + 1) for k in (*controls.active_keys(s), f"bs{s}")}
url.write([f for f in FIELDS if f.key in active])

scenario = st.session_state.get("nn_scenario")
if scenario in nl.SCENARIOS:
    sc = nl.get_scenario(scenario)
    # The lesson holds for the scenario's settings; once a knob moves, say so rather than imply it still does.
    changed = [k for k, v in scenario_values(scenario).items()
               if k in active and k != "step" and st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{sc.title}” loaded, then changed ({', '.join(changed[:4])}): its text no "
                   "longer describes this picture. Load it again to return.")
    else:
        st.info(f"**{sc.title}.** {sc.explanation}")

SPEC = (dataset, n_samples, noise, data_seed, (width,) * layers, activation, init, init_scale)


@st.cache_resource(max_entries=16, show_spinner=False)
def build(spec: tuple):
    name, n, noise_sd, seed, hidden, act, scheme, scale = spec
    return nl.build_model(name, n_samples=n, noise=noise_sd, data_seed=seed, hidden=hidden, activation=act,
                          init=scheme, init_scale=scale)


runs = result = None
with shown_errors():
    model, data = build(SPEC)
    keys = tuple(cache.setting_key(s) for s in settings)
    train_key = (SPEC, keys, tuple(batches), steps, int(init_seed))
    view_key = (focus - 1, span, resolution, int(direction_seed), biases, sharp_points)
    bar = st.progress(0.0, text="Training the network…")
    runs = progress_cache.cached("nn_train", train_key, max_entries=4, compute=lambda: nl.train(
        model, [OptimizerSetting(n, dict(h), s, dict(sp), lb) for n, h, s, sp, lb in keys], steps,
        init_seed=int(init_seed), batch_sizes=batches,
        progress=lambda f: bar.progress(0.4 * f, "Training…")))
    result = progress_cache.cached("nn_views", (train_key, view_key), lambda: nl.landscape_views(
        model, runs, focus=focus - 1, span=span, resolution=resolution, direction_seed=int(direction_seed),
        biases=biases, sharpness_points=sharp_points,
        progress=lambda f: bar.progress(0.4 + 0.6 * f, "Slices, PCA plane and sharpness…")))
    bar.empty()
if runs is None or result is None:
    st.stop()

colors = nnviz.run_colors(len(runs))
labels = [r.label for r in runs]
f = focus - 1
st.caption(f"**{'-'.join(map(str, model.widths))} {activation} network, d = {model.dim:,} weights**, softmax "
           f"cross-entropy on {model.n_samples:,} samples of {dataset} ({data.description.rstrip('.')}). "
           "Every optimizer starts from the same initial weights.")
for r in runs:
    if r.trajectory.diverged_at >= 0:
        st.warning(f"**{r.label}** diverged at step {r.trajectory.diverged_at}: its views use its last "
                   "finite weights.")
st.plotly_chart(nnviz.training_figure([(r.label, c, r.trajectory.loss, r.accuracy)
                                       for r, c in zip(runs, colors)]), width="stretch")

st.subheader("(a) From the initial to the trained weights")
st.plotly_chart(nnviz.interpolation_figure(result.alphas, list(zip(labels, colors, result.interpolation))),
                width="stretch")
rises = [landscape.interpolation_rise(result.alphas, v) for v in result.interpolation]
st.caption("The straight line between the two weight vectors, not the path training took. " + "; ".join(
    f"{lb}: {'falls all the way' if rise == 0 else f'climbs back by {rise:.3g} on the way'}"
    for lb, rise in zip(labels, rises)) + ".")

st.subheader("(b) A 2-D slice around the trained weights")
left, right = st.columns([2, 3])
left.plotly_chart(nnviz.slice_surface_figure(result.slice_xs, result.slice_ys, result.slices[f],
                                             title=f"around {labels[f]}"), width="stretch")
right.plotly_chart(nnviz.slice_contours_figure(result.slice_xs, result.slice_ys, list(result.slices), labels),
                   width="stretch")
st.caption(f"L(θ* + α δ + β η) on a {resolution}×{resolution} grid, α and β in ±{span:g}; ★ marks θ*. "
           f"δ and η are random (seed {direction_seed}), rescaled so every unit's incoming weights have "
           "the size of that unit's weights in θ*; each run gets its own slice, centred on its own weights, "
           f"on one colour scale. A slice shows 2 of the {model.dim:,} dimensions: a valley that looks wide "
           "here may be narrow along directions not drawn.")

st.subheader("(c) The training paths on their PCA plane")
checks = result.checks
st.session_state["step"] = min(st.session_state.get("step", steps), steps)
step = st.slider("step shown on the plane and the decision boundary", 0, steps, key="step")
paths = [Path(r.label, c, ch.coords, ch.true_loss, int(r.trajectory.diverged_at))
         for r, c, ch in zip(runs, colors, checks)]
evr = result.plane.explained_variance_ratio
left, right = st.columns(2)
left.plotly_chart(nnviz.plane_figure(result.plane_xs, result.plane_ys, result.plane_Z, paths, explained=evr,
                                     origin_label=labels[f], step=step), width="stretch")
right.plotly_chart(nnviz.honesty_figure([(r.label, c, ch.true_loss, ch.plane_loss, ch.relative_distance)
                                         for r, c, ch in zip(runs, colors, checks)]), width="stretch")
gaps = "; ".join(f"{r.label}: up to {ch.max_gap:.3g} apart, up to {100 * ch.max_relative_distance:.0f}% of "
                 "its size off the plane" for r, ch in zip(runs, checks))
st.caption(f"One **shared** plane for all runs, through {labels[f]}'s trained weights and fitted to every "
           f"path: it keeps {100 * evr.sum():.1f}% of the paths' squared distance from that point (PC1 "
           f"{100 * evr[0]:.1f}%, PC2 {100 * evr[1]:.1f}%). The map is the loss *on the plane*: a run's real "
           "loss is the solid line on the right, the dashed line what the map shows under its drawn path. "
           f"{gaps}.")

st.subheader("(d) Sharpness along training")
st.plotly_chart(nnviz.sharpness_figure(result.sharpness_steps, list(zip(labels, colors, result.sharpness,
                                                                        result.thresholds))), width="stretch")
ends = "; ".join(f"{lb}: λ_max {v[-1]:.3g}" + (f" against a limit of {t[-1]:.3g}" if t is not None
                                               else " (adaptive: no 2/lr line)")
                 for lb, v, t in zip(labels, result.sharpness, result.thresholds))
st.caption("Top Hessian eigenvalue by Lanczos on Hessian-vector products at the sampled steps. Gradient "
           "descent cannot settle where λ_max exceeds 2/lr (2(1+β)/lr with momentum β): with a large rate "
           "the sharpness rises to the dotted line and hovers there, the *edge of stability*. At the last "
           f"step: {ends}.")

st.subheader("(e) Decision boundary")
grid_x, grid_y = nl.input_axes(data.X, 81)
class_names = data.class_names or tuple(str(c) for c in range(model.n_classes))
for column, r in zip(st.columns(len(runs)), runs):
    k = min(step, r.last_finite_step)
    column.plotly_chart(nnviz.decision_figure(
        grid_x, grid_y, nl.decision_grid(model, r.trajectory.params[k], grid_x, grid_y), data.X, data.y,
        class_names=class_names, feature_names=data.feature_names,
        title=f"{r.label}<br>step {k}: accuracy {100 * r.accuracy[k]:.1f}%, loss {r.trajectory.loss[k]:.3g}"),
        width="stretch")

st.info("**What is shared and what is hidden.** (a) and (b) are per run, each centred on that run's own "
        "weights. (c) is one shared plane for all runs: distances and angles on it are true only within the "
        "plane, and the loss under a drawn path is not the loss the run had (compare the dashed lines with "
        "the solid ones). (d) and (e) use the real weights, with nothing projected.")

st.subheader("Export")
frames = nl.export_frames(runs, result)
for column, (name, label) in zip(st.columns(3), (("slices", "Slices"), ("plane", "PCA plane grid"),
                                                 ("trajectories", "Trajectories"))):
    column.download_button(f"{label} (CSV)", frames[name].to_csv(index=False), f"lossviz_nn_{name}.csv",
                           "text/csv")
with st.expander("Equivalent PyTorch code"):
    st.code(nl.torch_model_code(model), language="python")
    st.caption("Build each optimizer below on model.parameters() and compute loss = loss_fn(model(X), y) "
               "where the script has its placeholder. lossviz initializes with the sidebar's scheme, not "
               "torch's default.")
    for r in runs:
        batching = f", mini-batches of {r.batch_size}" if r.batch_size else ", full batch"
        st.markdown(f"**{r.label}**{batching}")
        st.code(torch_export.torch_code(r.optimizer, r.schedule, steps=steps, x0=[0.0]), language="python")

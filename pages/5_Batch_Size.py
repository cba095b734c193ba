"""Batch size & noise: mini-batch paths, the gradient cloud, and the noise ball SGD leaves at the minimum."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz import landscape
from lossviz.lessons import batch_size as minibatch
from lossviz.ui import nav, url
from lossviz.ui.errors import shown_errors
from lossviz.viz import batch_size as figures
from lossviz.viz.landscape import Path, curves_figure

st.set_page_config(page_title="Batch size & noise · lossviz", layout="wide")
nav.sidebar()
st.title("Batch size & noise")
st.markdown(
    "A mini-batch gradient is an average over **B** random samples instead of all of them: cheaper, but "
    "noisy. It scatters around the full gradient with a covariance that shrinks like **1/B**. Far from "
    "the minimum the full gradient dominates and every batch size heads the same way; near the minimum "
    "the full gradient vanishes and only the noise is left, so SGD never settles: it jitters in a **noise "
    "ball** whose size grows with the learning rate and shrinks with the batch size, roughly like "
    "**lr / B**. Below: the paths, the cloud of gradients at one point, and the ball, measured and predicted."
)

PROBLEMS = list(minibatch.PROBLEMS)
BATCH_OPTIONS = [1, 2, 4, 8, 16, 32, 64, 128]
MAX_BATCH_SIZES = 4
LR_FACTORS = (0.25, 0.5, 1.0, 2.0)


def parse_batches(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"batches must be integers separated by commas, got {text!r}") from None
    if not 1 <= len(values) <= MAX_BATCH_SIZES or any(v not in BATCH_OPTIONS for v in values):
        raise ValueError(f"batches must be 1 to {MAX_BATCH_SIZES} of {BATCH_OPTIONS}, got {text!r}")
    return values


FIELDS = [
    url.choice_field("problem", "diabetes_bmi", PROBLEMS),
    url.choice_field("sampling", "independent", minibatch.SAMPLINGS), url.float_field("lr", 0.05, 1e-4, 10.0),
    url.Field("batches", [1, 8, 64], parse_batches, lambda v: ",".join(map(str, v))),
    url.int_field("steps", 200, 10, 2000), url.int_field("seed", 0, 0, 10_000),
    url.float_field("x0", -1.0, -10.0, 10.0), url.float_field("y0", 1.5, -10.0, 10.0),
    url.choice_field("cloud_at", "start", ["start", "minimum"]),
]


def scenario_values(name: str) -> dict:
    sc = minibatch.SCENARIOS[name]
    start = minibatch.PROBLEMS[sc.problem].start
    return {"problem": sc.problem, "sampling": sc.sampling, "lr": sc.lr, "batches": list(sc.batch_sizes),
            "steps": sc.steps, "seed": sc.seed, "x0": start[0], "y0": start[1], "cloud_at": "start"}


def problem_defaults() -> None:
    spec = minibatch.PROBLEMS[st.session_state["problem"]]
    st.session_state["x0"], st.session_state["y0"] = spec.start
    st.session_state["lr"] = spec.lr


for notice in url.seed_from_url("batch_size", FIELDS):
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *minibatch.SCENARIOS], key="scenario_pick",
                          format_func=lambda n: n if n == "—" else minibatch.SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        url.apply_values(scenario_values(choice) | {"batch_scenario": choice})
        st.rerun()
    st.header("Model and data")
    problem = st.selectbox("problem", PROBLEMS, key="problem", on_change=problem_defaults,
                           format_func=lambda n: minibatch.PROBLEMS[n].title)
    st.header("SGD")
    sampling = st.radio("batches", minibatch.SAMPLINGS, key="sampling", format_func={
        "independent": "independent draws (with replacement)",
        "reshuffle": "reshuffled epochs (DataLoader shuffle=True)"}.get)
    lr = st.number_input("learning rate", 1e-4, 10.0, step=0.01, format="%.4g", key="lr")
    batches = st.multiselect(f"batch sizes (up to {MAX_BATCH_SIZES})", BATCH_OPTIONS, key="batches",
                             max_selections=MAX_BATCH_SIZES)
    steps = st.slider("steps", 10, 2000, key="steps")
    seed = st.number_input("seed (batch order)", 0, 10_000, step=1, key="seed")
    c1, c2 = st.columns(2)
    start = (c1.number_input("start slope", -10.0, 10.0, step=0.1, key="x0"),
             c2.number_input("start intercept", -10.0, 10.0, step=0.1, key="y0"))
    cloud_at = st.radio("gradient cloud at", ["start", "minimum"], key="cloud_at", horizontal=True)
url.write(FIELDS)

scenario = st.session_state.get("batch_scenario")
if scenario in minibatch.SCENARIOS:
    changed = [k for k, v in scenario_values(scenario).items() if st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{minibatch.SCENARIOS[scenario].title}” loaded, then changed "
                   f"({', '.join(changed[:4])}): its text no longer describes this picture.")
    else:
        st.info(f"**{minibatch.SCENARIOS[scenario].title}.** {minibatch.SCENARIOS[scenario].explanation}")
if not batches:
    st.error("batch sizes: choose at least one")
    st.stop()
sizes = tuple(sorted(batches))
colors = figures.batch_colors(sizes)


@st.cache_resource(max_entries=8, show_spinner=False)
def problem_and_minimum(name: str) -> tuple:
    objective, data = minibatch.build_problem(name)
    return objective, data, minibatch.minimizer(objective)


@st.cache_data(max_entries=32, show_spinner="Running SGD for every batch size…")
def paths(name: str, sampling: str, lr: float, sizes: tuple, steps: int, seed: int, start: tuple) -> tuple:
    objective, _, w_star = problem_and_minimum(name)
    runs = {b: minibatch.sgd_run(objective, lr, b, steps, start, seed=seed, sampling=sampling) for b in sizes}
    runs[None] = minibatch.sgd_run(objective, lr, None, steps, start)
    xs, ys = landscape.axes_for_domain(figures.view_box(np.array([w_star, start])), 101)
    return runs, xs, ys, landscape.grid(objective, xs, ys)


@st.cache_data(max_entries=32, show_spinner="Drawing mini-batches…")
def clouds(name: str, sampling: str, sizes: tuple, point: tuple, seed: int) -> list:
    objective = problem_and_minimum(name)[0]
    return [minibatch.gradient_cloud(objective, point, b, n_batches=300, seed=seed, sampling=sampling)
            for b in sizes]


@st.cache_data(max_entries=32, show_spinner="Measuring noise balls at four learning rates…")
def balls(name: str, sampling: str, lr: float, sizes: tuple, seed: int) -> tuple:
    objective, _, w_star = problem_and_minimum(name)
    rates = np.array(LR_FACTORS) * lr
    found = [ball for b in sizes for ball in minibatch.noise_balls(
        objective, w_star, rates, b, steps=1500, burn_in=300, seed=seed, sampling=sampling)]
    at_lr = [ball for ball in found if ball.lr == lr]
    xs, ys = landscape.axes_for_domain(figures.ball_view(at_lr, w_star), 81)
    return at_lr, minibatch.balls_frame(found), xs, ys, landscape.grid(objective, xs, ys)


computed = None
with shown_errors():
    objective, data, w_star = problem_and_minimum(problem)
    computed = paths(problem, sampling, float(lr), sizes, int(steps), int(seed),
                     (float(start[0]), float(start[1])))
if computed is None:
    st.stop()
runs, xs, ys, Z = computed
names = objective.param_names
f_star = float(objective.f(w_star))
st.caption(f"**{minibatch.PROBLEMS[problem].title}.** {minibatch.PROBLEMS[problem].description}")


def label(b):
    return "full batch (GD)" if b is None else f"B = {b}"


st.subheader("Paths: same start, same learning rate, same seed")
left, right = st.columns(2)
path_list = [Path(label(b), figures.FULL_BATCH_COLOR if b is None else colors[b], t.params, t.loss,
                  int(t.diverged_at)) for b, t in runs.items()]
left.plotly_chart(figures.paths_figure(xs, ys, Z, path_list, minimum=w_star, start=start, names=names),
                  width="stretch", key="paths_chart")
right.plotly_chart(curves_figure([(p.label, p.color, p.z - f_star) for p in path_list],
                                 ylabel="loss − minimum", height=520), width="stretch", key="loss_chart")
finals = [f"{label(b)}: {t.loss[-1] - f_star:.3g}" for b, t in runs.items()]
st.caption("Loss above the minimum after the last step, " + "; ".join(finals) + ". The full-batch path is "
           "deterministic; the mini-batch paths share the seed, so they differ only by the batch size.")

st.subheader("The gradient cloud")
point = tuple(float(v) for v in (start if cloud_at == "start" else w_star))
cloud_list = None
with shown_errors():
    cloud_list = clouds(problem, sampling, sizes, point, int(seed))
if cloud_list is not None:
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.cloud_figure(cloud_list, colors, names), width="stretch", key="cloud_chart")
    right.markdown(f"300 mini-batch gradients per batch size at the **{cloud_at}** "
                   f"({point[0]:.3g}, {point[1]:.3g}). The ellipses are the theory, Σ/B "
                   + ("(independent draws)" if sampling == "independent"
                      else "× (n − B)/(n − 1) (a batch of a reshuffled epoch)") + ", drawn at 2σ.")
    table = minibatch.clouds_frame(cloud_list)
    right.dataframe(table.style.format("{:.3g}", subset=table.columns[1:]), hide_index=True, width="stretch")

st.subheader("The noise ball")
found = None
with shown_errors():
    found = balls(problem, sampling, float(lr), sizes, int(seed))
if found is not None:
    at_lr, sweep, bxs, bys, bZ = found
    left, right = st.columns(2)
    left.plotly_chart(figures.noise_ball_figure(bxs, bys, bZ, at_lr, colors, minimum=w_star, names=names),
                      width="stretch", key="ball_chart")
    right.plotly_chart(figures.scaling_figure(sweep, colors), width="stretch", key="scaling_chart")
    described = [f"B = {ball.batch_size}: " + ("diverged" if ball.diverged else f"{ball.excess_loss:.3g}")
                 + f" (theory {ball.predicted_excess_loss:.3g})" for ball in at_lr]
    st.caption(
        f"SGD started at the minimum, 300 steps discarded, the next 1,500 kept. Mean loss above the minimum "
        f"at lr = {lr:g}: " + "; ".join(described) + ". Right: the same at lr × "
        + ", ".join(f"{f:g}" for f in LR_FACTORS)
        + ". The theory is exact for least squares with independent batches (an infinite theory value means "
        "SGD is unstable in mean square); for cross-entropy it is the linearization at the minimum"
        + ("; reshuffled epochs cancel their noise within each epoch and can end well below it." if
           sampling == "reshuffle" else ".")
    )

st.subheader("Export")
frames = []
for b, t in runs.items():
    frame = t.to_frame().drop(columns="run")
    frame.insert(0, "batch_size", "full" if b is None else b)
    frames.append(frame)
c1, c2, c3 = st.columns(3)
c1.download_button("Paths (CSV)", pd.concat(frames).to_csv(index=False), "lossviz_batch_paths.csv",
                   "text/csv")
if cloud_list is not None:
    cloud_table = pd.concat([c.to_frame(names) for c in cloud_list])
    c2.download_button("Gradient clouds (CSV)", cloud_table.to_csv(index=False),
                       "lossviz_gradient_clouds.csv", "text/csv")
if found is not None:
    c3.download_button("Noise balls (CSV)", found[1].to_csv(index=False), "lossviz_noise_balls.csv",
                       "text/csv")
with st.expander("Equivalent PyTorch code"):
    for b in sizes:
        st.markdown(f"**B = {b}**")
        st.code(minibatch.torch_script(problem, float(lr), steps=int(steps), x0=start, batch_size=b,
                                       seed=int(seed), sampling=sampling), language="python")

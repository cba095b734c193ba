"""Learning rate & decay: why a rate just above 2/λ_max diverges, which rate is best, what decay does."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz import analysis, expr, optimizers, surfaces, torch_export
from lossviz.lessons import learning_rate as lr_sweep
from lossviz.lessons.learning_rate import LR_CHOICES, LR_SCENARIOS, SCHEDULE_ORDER
from lossviz.ui import cache, nav, url
from lossviz.ui.errors import shown_errors
from lossviz.ui.live_plotly import live_plotly_chart
from lossviz.viz import learning_rate as hyper
from lossviz.viz.landscape import PALETTE, Path, contour_figure, curves_figure

st.set_page_config(page_title="Learning rate & decay · lossviz", layout="wide")
nav.sidebar()
st.title("Learning rate & decay")
st.markdown(
    "Near a minimum every loss is a bowl, and gradient descent multiplies the error along each curvature "
    "direction λ by (1 − lr·λ) per step. Along the sharpest direction λ_max that factor leaves [−1, 1] as "
    "soon as **lr > 2/λ_max**: each step then overshoots more than the last, and the run diverges. Below the "
    "line, the flattest direction λ_min sets the pace, so the best constant rate is **2/(λ_max + λ_min)**, "
    "and an ill-conditioned bowl (large κ = λ_max/λ_min) stays slow whatever you choose. Below, several "
    "rates race, 200+ rates are swept in one vectorized run with the closed-form answer drawn on top, every "
    "decay schedule is drawn next to the path it produces, and the learning-rate range test finds a rate "
    "without knowing λ_max."
)


def multi_field(key: str, default: tuple, choices: tuple) -> url.Field:
    """A multiselect in the URL as comma-separated names (each checked against ``choices``)."""
    def parse(text: str) -> list:
        items = [item for item in text.split(",") if item]
        if not items or any(item not in choices for item in items):
            raise ValueError(f"{key} must be a comma-separated list of {', '.join(choices)}")
        return list(dict.fromkeys(items))
    return url.Field(key, list(default), parse, lambda v: ",".join(v))


SURFACES = [*(n for n in surfaces.names() if len(surfaces.get(n).minima)), "custom"]
FIELDS = [
    url.choice_field("surface", "quadratic", SURFACES),
    url.float_field("kappa", 10.0, 1.0, 1000.0), url.float_field("rotation", 30.0, -180.0, 180.0),
    url.Field("formula", "sin(x)*cos(y) + 0.1*(x^2 + y^2)", str),
    *(url.float_field(k, v, -1e6, 1e6) for k, v in (("xmin", -3.0), ("xmax", 3.0), ("ymin", -3.0), ("ymax", 3.0))),
    url.float_field("x0", -2.5, -1e6, 1e6), url.float_field("y0", 2.0, -1e6, 1e6),
    url.int_field("steps", 80, 8, 2000),
    multi_field("lrs", ("0.25", "0.75", "optimal", "1.05"), LR_CHOICES),
    url.int_field("n_lrs", 300, 200, 1000), url.choice_field("axis", "linear", ["linear", "log"]),
    url.float_field("base", 0.95, 0.01, 1.5), url.int_field("warmup", 0, 0, 500),
    multi_field("schedules", SCHEDULE_ORDER, SCHEDULE_ORDER),
]
DEFAULTS = {f.key: f.default for f in FIELDS}

for notice in url.seed_from_url("learning_rate", FIELDS):
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *LR_SCENARIOS], key="scenario_pick",
                          format_func=lambda n: n if n == "—" else LR_SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        settings = LR_SCENARIOS[choice].settings
        url.apply_values(DEFAULTS | {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
                         | {"scenario_note": choice})
        st.rerun()
    st.header("Surface")
    surface_name = st.selectbox("surface", SURFACES, key="surface",
                                format_func=lambda n: "Custom formula" if n == "custom" else surfaces.get(n).title)
    params, formula, domain = {}, "", None
    if surface_name == "quadratic":
        params = {"condition_number": st.slider("condition number κ", 1.0, 1000.0, key="kappa"),
                  "rotation": st.slider("rotation (degrees)", -180.0, 180.0, key="rotation")}
    if surface_name == "custom":
        formula = st.text_input("f(x, y) =", key="formula", max_chars=expr.MAX_LENGTH)
        c1, c2 = st.columns(2)
        domain = ((c1.number_input("x min", key="xmin"), c2.number_input("x max", key="xmax")),
                  (c1.number_input("y min", key="ymin"), c2.number_input("y max", key="ymax")))
    c1, c2 = st.columns(2)
    start = (c1.number_input("start x", key="x0", format="%.4g"), c2.number_input("start y", key="y0", format="%.4g"))
    steps = st.slider("steps", 8, 2000, key="steps")
    st.header("Learning rates")
    chosen = st.multiselect("rates to race (× 2/λ_max)", LR_CHOICES, key="lrs", max_selections=6,
                            format_func=lr_sweep.choice_label)
    n_lrs = st.slider("learning rates in the sweep", 200, 1000, step=50, key="n_lrs")
    spacing = st.radio("sweep spacing", ["linear", "log"], key="axis", horizontal=True)
    st.header("Schedules")
    base = st.slider("peak lr (× 2/λ_max)", 0.01, 1.5, step=0.01, key="base")
    warmup = st.number_input("linear warm-up steps", 0, 500, step=1, key="warmup")
    picked = st.multiselect("schedules", SCHEDULE_ORDER, key="schedules",
                            format_func=lambda n: n.replace("_", " "))

active = set(DEFAULTS) - ({"kappa", "rotation"} if surface_name != "quadratic" else set())
active -= {"formula", "xmin", "xmax", "ymin", "ymax"} if surface_name != "custom" else set()
url.write([f for f in FIELDS if f.key in active])

note = st.session_state.get("scenario_note")
if note in LR_SCENARIOS:
    changed = [k for k, v in LR_SCENARIOS[note].settings.items()
               if st.session_state.get(k) != (list(v) if isinstance(v, tuple) else v)]
    if changed:
        st.caption(f"Scenario “{LR_SCENARIOS[note].title}” loaded, then changed ({', '.join(changed[:4])}): "
                   "its text no longer describes this picture. Load it again to return.")
    else:
        st.info(f"**{LR_SCENARIOS[note].title}.** {LR_SCENARIOS[note].explanation}")


@st.cache_resource(max_entries=32, show_spinner=False)
def curvature_of(key: tuple, start: tuple) -> lr_sweep.Curvature:
    return lr_sweep.reference_curvature(cache.build_surface(key), np.array(start), find_minimum=True)


@st.cache_resource(max_entries=32, show_spinner="Racing the learning rates…")
def race(key: tuple, start: tuple, choices: tuple, steps: int) -> lr_sweep.LearningRateComparison:
    return lr_sweep.compare_learning_rates(cache.build_surface(key), np.array(start), choices, steps,
                                           curvature_of(key, start))


@st.cache_resource(max_entries=32, show_spinner="Sweeping the learning rate…")
def sweep(key: tuple, start: tuple, steps: int, n_lrs: int, spacing: str) -> lr_sweep.LearningRateSweep:
    low = 1e-3 if spacing == "log" else 0.005
    return lr_sweep.learning_rate_sweep(cache.build_surface(key), np.array(start), steps, n_lrs=n_lrs,
                                        low=low, spacing=spacing, curvature=curvature_of(key, start))


@st.cache_resource(max_entries=32, show_spinner="Running the schedules…")
def scheduled(key: tuple, start: tuple, names: tuple, base_lr: float, steps: int,
              warmup: int) -> lr_sweep.ScheduleComparison:
    return lr_sweep.compare_schedules(cache.build_surface(key), np.array(start), names, base_lr, steps,
                                      warmup)


@st.cache_resource(max_entries=32, show_spinner=False)
def range_test(key: tuple, start: tuple, steps: int) -> analysis.LRRangeTest:
    return lr_sweep.range_test(cache.build_surface(key), np.array(start), max(steps, 50), curvature_of(key, start))


key = cache.surface_key(surface_name, params, formula, domain)
curvature = None
with shown_errors():
    surface = cache.build_surface(key)
    xs, ys, Z = cache.surface_grid(key, 81)
    curvature = curvature_of(key, start)
if curvature is None:
    st.stop()
# A typed formula has no known minimum value: the gaps are measured from the local minimum found.
floor = surface.min_value if surface.min_value is not None else float(surface.f(curvature.point))
limit, best = curvature.max_stable_lr, curvature.optimal_lr
theory_lines = [hyper.VLine(limit, f"2/λ_max = {limit:.4g}", "#D55E00"),
                hyper.VLine(best, f"optimal 2/(λ_max+λ_min) = {best:.4g}", "#009E73", "dot")]
st.caption(f"**{surface.title}.** Curvature at {curvature.where}: λ_max = {curvature.lambda_max:.4g}, "
           f"λ_min = {curvature.lambda_min:.4g} (κ = {curvature.condition_number:.4g}), so gradient descent is "
           f"stable for lr < 2/λ_max = **{limit:.4g}** and fastest at 2/(λ_max+λ_min) = **{best:.4g}**.")

st.subheader("Several learning rates at once")
comparison = None
with shown_errors():
    comparison = race(key, start, tuple(chosen), steps) if chosen else None
if comparison is None:
    st.info("Pick at least one rate to race in the sidebar.")
else:
    traj = comparison.trajectory
    paths = [Path(label, PALETTE[i % len(PALETTE)], traj.params[i], traj.loss[i], int(traj.diverged_at[i]))
             for i, label in enumerate(comparison.labels)]
    left, right = st.columns(2)
    live_plotly_chart(contour_figure(xs, ys, Z, paths=paths, minima=surface.minima, start=start,
                                     log_scale=surface.log_scale, min_value=surface.min_value),
                      key="race_map", container=left)
    live_plotly_chart(curves_figure([(p.label, p.color, p.z - floor) for p in paths],
                                    ylabel="loss − minimum"), key="race_curves", container=right)

st.subheader("Final loss against the learning rate")
result = None
with shown_errors():
    result = sweep(key, start, steps, n_lrs, spacing)
if result is not None:
    live_plotly_chart(hyper.sweep_figure(result.lrs, result.final_loss - floor, result.diverged,
                                         predicted_gap=result.predicted_gap, start_gap=result.start_loss - floor,
                                         lines=theory_lines, steps=steps, log_x=spacing == "log"),
                      key="sweep_chart")
    edge = result.measured_edge
    edge_text = (f"the smallest swept rate that diverged or ended above its start is **{edge:.4g}** "
                 f"({edge / limit:.3f} × 2/λ_max)") if np.isfinite(edge) else "no swept rate diverged"
    theory_text = ("The dotted curve is the closed form ½Σλᵢcᵢ²(1 − lr·λᵢ)^2T, exact on a quadratic; it "
                   "lies on the measurement." if result.predicted_gap is not None else
                   "This surface is not a quadratic, so the lines hold only near the minimum: the run must "
                   "first get there.")
    best_text = (f"the best final loss is at lr **{result.best_lr:.4g}**" if np.isfinite(result.best_lr)
                 else "every swept rate diverged from this start")
    st.caption(f"{len(result.lrs)} learning rates, one vectorized run of {steps} steps. Measured: "
               f"{best_text}; {edge_text}. Theory: 2/λ_max = {limit:.4g}, optimal {best:.4g}. {theory_text}")

st.subheader("Schedules: the rate of every step, and the path it produces")
schedules_run = None
with shown_errors():
    if picked:
        schedules_run = scheduled(key, start, tuple(picked), base * limit, steps, int(warmup))
if schedules_run is None:
    st.info("Pick at least one schedule in the sidebar.")
else:
    traj = schedules_run.trajectory
    titles = [s.title for s in schedules_run.schedules]
    live_plotly_chart(hyper.schedule_grid_figure(
        schedules_run.lr, traj.params, traj.loss[:, -1] - floor, titles, xs, ys, Z,
        lines=[hyper.VLine(limit, f"2/λ_max = {limit:.4g}", "#D55E00")], minima=surface.minima,
        log_scale=surface.log_scale, min_value=surface.min_value), key="schedule_chart")
    warm_text = f", after {warmup} warm-up steps from a third of it" if warmup else ""
    st.caption(f"Peak lr {base * limit:.4g} ({base:g} × 2/λ_max){warm_text}. Whenever a schedule's lr sits "
               "above the dashed 2/λ_max line, its path bounces further out; once the lr falls below, the "
               "bouncing dies away.")

st.subheader("The learning-rate range test")
test = None
with shown_errors():
    test = range_test(key, start, steps)
if test is not None:
    live_plotly_chart(hyper.range_test_figure(test.lrs, test.losses, suggestion=test.suggestion,
                                              min_loss_lr=test.min_loss_lr, lines=theory_lines[:1],
                                              loss_floor=floor), key="range_chart")
    peak = test.min_loss_lr / limit
    st.caption(f"One run whose lr grows exponentially from 10⁻⁴ to 10 × 2/λ_max ({len(test.lrs)} steps before "
               f"the loss blew up; Smith 2017, fastai's lr_find). Steepest fall at lr **{test.suggestion:.4g}**, "
               f"lowest loss at **{test.min_loss_lr:.4g}** = {peak:.3g} × 2/λ_max. "
               + ("The ramp outruns the instability: past 2/λ_max the error along the sharp direction is tiny "
                  "and needs several steps to grow back, so the loss keeps falling beyond the line. That is why "
                  "the rule of thumb backs off about 10× from the lowest-loss rate." if peak > 1 else
                  "The loss turns up at or before the line: the line is drawn for the curvature at the minimum, "
                  "while the ramp meets the curvature wherever the run is."))

st.subheader("Export")
c1, c2 = st.columns(2)
if result is not None:
    c1.download_button("Sweep (CSV)", result.to_frame().to_csv(index=False), "lossviz_lr_sweep.csv",
                       "text/csv")
frames = [f.assign(group="schedule").rename(columns={"schedule": "label"}) for f in
          ([schedules_run.to_frame()] if schedules_run is not None else [])]
if comparison is not None:
    frames.append(comparison.to_frame().assign(group="learning rate"))
if frames:
    c2.download_button("Trajectories (CSV)", pd.concat(frames, ignore_index=True).to_csv(index=False),
                       "lossviz_lr_trajectories.csv", "text/csv")
with st.expander("Equivalent PyTorch code"):
    runs = {label: (float(lr), None) for label, lr in zip(comparison.labels, comparison.lrs)} if comparison else {}
    if schedules_run is not None:
        runs |= {f"schedule: {s.title}": (base * limit, s) for s in schedules_run.schedules}
    if runs:
        which = st.selectbox("run", list(runs), key="code_run")
        lr, schedule = runs[which]
        with shown_errors():
            st.code(torch_export.torch_code(optimizers.get("sgd", lr=lr), schedule, steps=steps, x0=start,
                                            objective_expr=surface.torch_expr or None), language="python")

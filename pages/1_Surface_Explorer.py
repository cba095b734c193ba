"""Surface Explorer: race optimizers down a 2-D test function and inspect every step."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz import expr, surfaces, torch_export
from lossviz.lessons import explorer as scenarios
from lossviz._validation import check_scalar
from lossviz.ui import cache, controls, nav, url
from lossviz.ui.errors import shown_errors
from lossviz.ui.live_plotly import live_plotly_chart
from lossviz.viz import inspector
from lossviz.viz.landscape import PALETTE, Arrow, Path, as_figure, contour_spec, curves_spec, surface_spec

st.set_page_config(page_title="Surface Explorer · lossviz", layout="wide")
nav.sidebar()
st.title("Surface Explorer")
st.markdown(
    "Each optimizer starts at the same point and follows its own update rule downhill. The contour map "
    "(left) is the surface seen from above, the 3-D view (right) the same surface in relief. Press "
    "**Play** or drag the step slider under the map to replay the race in your browser; click on the map "
    "to move the start. Every setting is in the page's address: copy it to share this exact picture."
)

SURFACES = [*surfaces.names(), "custom"]
MAX_SLOTS = 6
FIELDS = [
    url.choice_field("surface", "quadratic", SURFACES),
    url.float_field("kappa", 10.0, 1.0, 1000.0), url.float_field("rotation", 30.0, -180.0, 180.0),
    url.Field("formula", "sin(x)*cos(y) + 0.1*(x^2 + y^2)", str),
    *(url.float_field(k, v, -1e6, 1e6) for k, v in (("xmin", -3.0), ("xmax", 3.0), ("ymin", -3.0), ("ymax", 3.0))),
    url.float_field("x0", -2.8, -1e6, 1e6), url.float_field("y0", 2.0, -1e6, 1e6),
    url.int_field("steps", 60, 1, 10_000), url.int_field("racers", 2, 1, MAX_SLOTS),
    *(f for slot in range(1, MAX_SLOTS + 1) for f in controls.slot_fields(slot)),
]


def scenario_values(name: str) -> dict:
    sc = scenarios.get(name)
    values = {"surface": sc.surface, "x0": sc.start[0], "y0": sc.start[1], "steps": sc.steps,
              "racers": len(sc.optimizers)}
    values |= {"kappa": sc.surface_params.get("condition_number", 10.0), "rotation": sc.surface_params.get("rotation", 30.0)}
    for slot, setting in enumerate(sc.optimizers, start=1):
        values |= controls.scenario_values(slot, setting)
    return values


def apply_scenario(name: str) -> None:
    url.apply_values(scenario_values(name) | {"scenario_note": name})


notices = url.seed_from_url("explorer", FIELDS)
if not st.query_params and "scenario_note" not in st.session_state:
    apply_scenario("ravine")
for notice in notices:
    st.warning(notice)

# A click on the map (a live chart: its value is the last click) sets the start, before the start
# widgets are drawn. Each click has its own id, so it is applied once, and a second click on the same
# spot still counts.
click = st.session_state.get("contour_chart")
if isinstance(click, dict) and click.get("id") != st.session_state.get("_applied_click"):
    st.session_state["_applied_click"] = click.get("id")
    with shown_errors():
        st.session_state["x0"], st.session_state["y0"] = (round(check_scalar(click.get(a), f"clicked {a}"), 3)
                                                          for a in ("x", "y"))

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *scenarios.names()], key="scenario_pick",
                          format_func=lambda n: n if n == "—" else scenarios.get(n).title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        apply_scenario(choice)
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
    st.header("Start and steps")
    c1, c2 = st.columns(2)
    start = (c1.number_input("start x", key="x0", format="%.4g"), c2.number_input("start y", key="y0", format="%.4g"))
    steps = st.slider("steps", 1, 10_000, key="steps")
    racers = st.slider("optimizers racing", 1, MAX_SLOTS, key="racers")
    settings = [controls.optimizer_slot(slot, steps, st) for slot in range(1, racers + 1)]

active = {"surface", "x0", "y0", "steps", "racers"} | {k for s in range(1, racers + 1) for k in controls.active_keys(s)}
active |= {"kappa", "rotation"} if surface_name == "quadratic" else set()
active |= {"formula", "xmin", "xmax", "ymin", "ymax"} if surface_name == "custom" else set()
url.write([f for f in FIELDS if f.key in active])

if st.session_state.get("scenario_note") in scenarios.SCENARIOS:
    note = scenarios.get(st.session_state["scenario_note"])
    # The lesson holds for the scenario's settings; once a knob moves, say so instead of implying it still does.
    changed = [k for k, v in scenario_values(st.session_state["scenario_note"]).items()
               if k in active and st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{note.title}” loaded, then changed ({', '.join(changed[:4])}): its text no longer "
                   "describes this picture. Load it again to return.")
    else:
        st.info(f"**{note.title}.** {note.explanation}")

entries = None
with shown_errors():
    key = cache.surface_key(surface_name, params, formula, domain)
    surface = cache.build_surface(key)
    xs, ys, Z = cache.surface_grid(key, 81)
    entries = cache.run_race(key, tuple(cache.setting_key(s) for s in settings), start, steps)
if entries is None:
    st.stop()

colors = {e.label: PALETTE[i % len(PALETTE)] for i, e in enumerate(entries)}
paths = [Path(e.label, colors[e.label], e.trajectory.params, e.trajectory.loss, int(e.trajectory.diverged_at), e.verdict)
         for e in entries]
st.caption(f"**{surface.title}.** {surface.lesson}")

# The inspected step must exist: fewer steps than before pull it back to the last one.
inspect_step = st.session_state["inspect_step"] = min(st.session_state.get("inspect_step", 0), steps - 1)
arrows = []
for e in entries:
    with shown_errors():
        if inspect_step < e.trajectory.n_steps and np.all(np.isfinite(e.trajectory.params[inspect_step + 1])):
            d = e.inspect(min(inspect_step, e.trajectory.n_steps - 1))
            scale = 0.15 * (xs[-1] - xs[0]) / max(np.linalg.norm(d.grad), 1e-12)
            arrows.append(Arrow(tuple(d.params), tuple(d.params - scale * d.grad), "#444"))
            arrows.append(Arrow(tuple(d.params), tuple(d.new_params), colors[e.label]))

left, right = st.columns(2)
# Live charts: updated in place on a rerun instead of mounted anew (see lossviz.ui.live_plotly).
contour = contour_spec(xs, ys, Z, paths=paths, minima=surface.minima, log_scale=surface.log_scale,
                       min_value=surface.min_value, start=start, arrows=arrows)
live_plotly_chart(contour, key="contour_chart", container=left, clickable=True)
live_plotly_chart(surface_spec(xs, ys, Z, paths=paths, minima=surface.minima, min_value=surface.min_value,
                               log_scale=surface.log_scale), key="surface_chart", container=right)

for e in entries:
    (st.warning if e.trajectory.diverged_at >= 0 or e.left_view_at >= 0 else st.success)(f"**{e.label}**: {e.verdict}")

c1, c2 = st.columns(2)
live_plotly_chart(curves_spec([(e.label, colors[e.label], e.trajectory.loss - (surface.min_value or 0.0)) for e in entries],
                            ylabel="loss − minimum" if surface.min_value is not None else "loss",
                            log_y=surface.min_value is not None), key="loss_curve", container=c1)
if len(surface.minima):
    live_plotly_chart(curves_spec([(e.label, colors[e.label], e.distance) for e in entries],
                                ylabel="distance to nearest minimum"), key="distance_curve", container=c2)
else:
    c2.info("This surface has no minimum, so there is no distance to plot.")

st.subheader("Step inspector")
if steps > 1:  # a slider needs two ends; a one-step race has only step 0 to inspect
    st.slider("inspect step", 0, steps - 1, key="inspect_step",
              help="The arrows on the map show this step: dark grey, the negative gradient (scaled to fit); "
              "in the optimizer's colour, the update it actually made.")
st.caption("On the map: the dark grey arrow is −∇f at this step (scaled to fit), the coloured arrow the update "
           "each optimizer actually made. They differ wherever momentum or per-coordinate scaling acts.")
for e in entries:
    with st.expander(f"{e.label} at step {inspect_step}", expanded=True), shown_errors():
        d = e.inspect(min(inspect_step, e.trajectory.n_steps - 1))
        # One formula block per optimizer: the rule, the gradient, the state, the update with its numbers.
        lines = [e.optimizer.latex,
                 r"g_{%d} = \nabla f(\theta_{%d}) = " % (d.step, d.step) + inspector.vector_latex(d.grad)
                 + r",\quad \gamma = " + inspector.number_latex(d.lr)]
        lines += [r"\texttt{%s} = " % name.replace("_", r"\_") + inspector.vector_latex(value)
                  for name, value in d.state.items() if name != "step"]
        lines.append(inspector.update_latex(e.optimizer.name, d.step, d.params, d.new_params, d.effective_lr, d.direction))
        st.latex(r"\begin{gathered}" + r" \\[16pt] ".join(lines) + r"\end{gathered}")
        st.caption(f"γ is the learning rate of this step, γ_eff the step size actually applied per coordinate; "
                   f"the direction is {inspector.DIRECTION_WORDS[e.optimizer.name]}.")

st.subheader("Export")


def trajectories_csv() -> str:
    frames = [e.trajectory.to_frame().drop(columns="run").assign(optimizer=e.label) for e in entries]
    return pd.concat(frames)[["optimizer", *frames[0].columns[:-1]]].to_csv(index=False)


# Built when clicked, not on every rerun: the HTML export alone costs more than the whole race.
c1, c2 = st.columns(2)
c1.download_button("Trajectories (CSV)", trajectories_csv, "lossviz_trajectories.csv", "text/csv")
c2.download_button("Contour figure (HTML)", lambda: as_figure(contour).to_html(include_plotlyjs="cdn"), "lossviz_contour.html",
                   "text/html")
with st.expander("Equivalent PyTorch code"):
    st.code("\n\n".join(f"# {e.label}\n" + torch_export.torch_code(e.optimizer, e.schedule, steps=steps, x0=start,
                                                                    objective_expr=surface.torch_expr or None)
                          for e in entries), language="python")

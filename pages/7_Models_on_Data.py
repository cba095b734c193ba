"""Models on data: the exact two-weight landscape of linear and logistic regression, with a loss switch."""
import streamlit as st

from lossviz import torch_export
from lossviz.lessons import models_on_data as lesson
from lossviz.ui import budget, controls, export, surface_picker, text, upload, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import models_on_data as figures

SLOTS = lesson.MAX_RUNS
FIELDS = [
    *upload.data_fields(), url.choice_field("loss", "mse", lesson.loss_names(), "loss"),
    url.float_field("delta", 1.0, 0.05, 5.0, "Huber δ"),
    url.int_field("outliers", 0, 0, 20, "outliers (targets moved up)"),
    url.float_field("outlier_size", 6.0, 0.0, 20.0, "outlier size (sd of y)"),
    url.float_field("x0", -2.0, -50.0, 50.0, "start (1st axis)"),
    url.float_field("y0", -2.0, -50.0, 50.0, "start (2nd axis)"),
    url.int_field("steps", 100, 1, 2000, "steps"), url.int_field("racers", 1, 1, SLOTS, "optimizers"),
    url.int_field("step", 0, 0, 2000, "step on the trajectory"),
    *(f for slot in range(1, SLOTS + 1) for f in controls.slot_fields(slot)),
]
fields = {f.key: f for f in FIELDS}
page = open_page("models_on_data", FIELDS, scenarios=lesson.SCENARIOS, default="bowl",
                 expand=lambda s: controls.expand(s, lesson.SPARE_RUNS, SLOTS))
page.lesson(
    "A model with two parameters has an **exact** loss landscape: every point of the map is one model, "
    "its colour the loss of that model on the whole dataset. Here that is linear regression (slope and "
    "intercept) or logistic regression (two weights, or a weight and a bias). Switch the **loss** and the "
    "same data gives a different surface: add outliers and the MSE bowl slides while MAE and Huber hold; "
    "put squared error behind a sigmoid and plateaus appear where cross-entropy has a slope. Pick a step "
    "with the slider (or click a path) to see that model's line or boundary on the data beside it, and drag "
    "the **learning rate** slider under the map to replay the descent at other rates in your browser.")
page.scenario_picker()
with st.sidebar:
    data = upload.data_picker(fields)
    task = data.task if data else "regression"
    st.header("Model and loss")
    losses = lesson.loss_names(task)
    upload.keep_choice(fields["loss"], losses, f"does not suit a {task}", format_func=lesson.loss_title)
    loss = widgets.select(fields["loss"], options=losses, format_func=lesson.loss_title)
    delta = float(widgets.slider(fields["delta"], step=0.05)) if loss == "huber" else 1.0
    outliers = int(widgets.slider(fields["outliers"])) if task == "regression" else 0
    size = float(widgets.slider(fields["outlier_size"], step=0.5)) if task == "regression" else 6.0
    st.header("Optimizers")
    c1, c2 = st.columns(2)
    start = (float(widgets.number(fields["x0"], c1, notes=st.sidebar)),
             float(widgets.number(fields["y0"], c2, notes=st.sidebar)))
    steps, racers = int(widgets.slider(fields["steps"])), int(widgets.slider(fields["racers"]))
    settings = tuple(controls.optimizer_slot(slot, steps, st) for slot in range(1, racers + 1))
active = (data.active_keys if data else {"source"}) | {"loss", "x0", "y0", "steps", "racers", "step"}
active |= {k for s in range(1, racers + 1) for k in controls.active_keys(s)}
active |= {"delta"} if loss == "huber" else set()
active |= {"outliers", "outlier_size"} if task == "regression" else set()
page.write_link(active)
note = st.container()  # one element whatever it shows, so the charts below keep their places (and frames)
if data is None:  # a file was given and refused (the sidebar says why), or none reached the page
    st.info(upload.missing_file_note())
    st.stop()

work = budget.data_estimate(*lesson.explore_work(
    data.rows, steps=steps, runs=racers, multipliers=len(lesson.LR_MULTIPLIERS), outliers=outliers,
    regression=task == "regression"),
    run_knobs=(budget.Knob("steps", steps), budget.Knob("optimizers", racers)),
    data_knobs=(budget.Knob("samples", data.rows, 20),) if data.synthetic else ())
ex = page.computed(lambda: upload.explore(data, loss, delta, outliers, size, settings, start, steps), work)
land, paths = ex.landscape, figures.paths(ex)
view_key, height = repr((data.key, loss, delta, outliers, size)), 560 - 100 * page.present


@st.fragment
def step_view() -> None:
    """The chosen step (slider or a click near a path) on the map and on the data: reruns this part only."""
    notes = st.container()
    if click := surface_picker.new_click("data_contour"):
        with shown_errors(container=notes):
            picked = lesson.nearest_step(ex, [surface_picker.clicked(click, axis) for axis in "xy"])
            st.session_state["step"] = st.session_state["step"] if picked is None else picked
    if int(url.current("step", 0)) > steps:
        if url.from_link("step"):
            text.notice(url.refuse_link_value(fields["step"], f"is past the last step ({steps})", steps),
                        container=notes)
        st.session_state["step"] = steps
    left, right = st.columns(2)
    step = right.slider(fields["step"].title, 0, steps, key="step", help="Or click a path on the map.")
    page.write_link(active)
    contour, relief = left.tabs(["Landscape (contour)", "Landscape (3-D)"])
    style = {"label": text.plotly_label, "height": height}  # column names shown as typed, never as markup
    spec = figures.landscape_spec(ex, paths, step, start, view_key=view_key, **style)
    page.chart(figures.with_lr_scrubber(spec, ex, paths), "data_contour", contour, clickable=True,
               main=True, placed=True)
    page.chart(figures.surface3d(ex, paths, view_key, height), "data_surface", relief)
    page.chart(figures.data_figure(ex, paths, step, **style), "data_view", right)


with page.top if page.present else st.container():  # the map is the main figure (a fragment's own)
    step_view()
with st.container() if page.present else note:  # on a projector the map comes first, the scenario under it
    page.scenario_note(active, ignore=("step",))
with st.container():
    source = f"{text.quote(data.name)}: " if data.uploaded else ""
    text.literal(f"{land.choice.title} on {source}{land.dataset.description} {lesson.summary(ex)}")
    for r in ex.runs:
        bad = r.trajectory.diverged_at >= 0 or "never moved" in r.verdict or "did not go down" in r.verdict
        (st.warning if bad or "plateau" in r.verdict else st.success)(f"**{r.label}**: {r.verdict}")
    if ex.robust is not None:
        st.markdown("**Where each loss puts its minimum** (on the map: open markers without the outliers, "
                    "filled with them)")
        st.dataframe(lesson.robust_table(ex).round(4), hide_index=True, width="stretch")
page.chart(figures.loss_curves(ex, paths), "data_loss")
st.subheader("Export")
c1, c2, c3, c4 = st.columns(4)
export.csv_button("Trajectories (CSV)", lambda: lesson.trajectories_frame(ex), "lossviz_trajectories.csv", c1)
export.csv_button("Landscape grid (CSV)", lambda: lesson.grid_frame(ex), "lossviz_data_landscape.csv", c2,
                  index=True)
export.csv_button("Model data (CSV)", lambda: lesson.model_data_frame(land), lesson.DATA_FILE_NAME, c3)
export.html_button("Landscape figure (HTML)", lambda step=int(url.current("step", 0)): figures.landscape_spec(
    ex, paths, step, start, label=text.plotly_label), "lossviz_data_landscape.html", c4)  # built on click
with shown_errors():
    export.code_block("\n\n".join(torch_export.comment(r.label) + "\n" + lesson.torch_code(
        land, r.optimizer, r.schedule, steps=steps, x0=start) for r in ex.runs),
        f"{lesson.model_data_note(ex)} The code reads {lesson.DATA_FILE_NAME} when the data is too large to "
        "write into the script.")
page.slides("lossviz_models_on_data")  # every chart as a PNG and an SVG for slides

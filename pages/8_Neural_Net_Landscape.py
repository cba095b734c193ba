"""Neural net landscape: a small network's loss on a line, slices and its paths' plane; its sharpness."""
import streamlit as st

from lossviz import landscape
from lossviz.lessons import neural_net as nl
from lossviz.models import ACTIVATIONS, INITS
from lossviz.ui import cache, controls, export, text, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.page import open_page
from lossviz.viz import neural_net as figures

SLOTS, Int, Float, Choice = 3, url.int_field, url.float_field, url.choice_field
BASE = [Choice("dataset", "moons", nl.DATASETS, "dataset"), Int("n", 1000, 50, 2000, "samples"),
        Float("noise", 0.2, 0.0, 1.0, "noise"), Int("dseed", 0, 0, 10_000, "data seed"),
        Int("layers", 2, 1, 4, "hidden layers"), Int("width", 32, 2, 128, "units per hidden layer"),
        Choice("act", "tanh", ACTIVATIONS, "activation"), Choice("init", "he", INITS, "initialization"),
        Float("iscale", 1.0, 0.01, 10.0, "initialization scale"), Int("steps", 500, 10, 3000, "steps"),
        Int("iseed", 0, 0, 10_000, "initialization seed"), Int("dirseed", 0, 0, 10_000, "direction seed"),
        Int("runs", 2, 1, SLOTS, "optimizers (same initial weights)"),
        Float("span", 1.0, 0.05, 5.0, "slice span (± in filter-normalized units)"),
        Int("res", 51, 11, 101, "grid resolution (points per axis)"),
        Int("sharp", nl.SHARPNESS_POINTS, 5, 50, "sharpness: steps measured"),
        Choice("biases", "zero", landscape.BIAS_MODES, "biases in the directions"),
        Int("focus", 1, 1, SLOTS, "PCA plane through the weights of"),
        Int("step", 500, 0, 3000, "step shown on the plane and the decision boundary")]
FIELDS = BASE + [f for s in range(1, SLOTS + 1) for f in (
    *controls.slot_fields(s), Int(f"bs{s}", 0, 0, 2000, f"batch size of optimizer {s} (0 = full batch)"))]
fields = {f.key: f for f in FIELDS}
STEP = {"n": 50, "noise": 0.05, "iscale": 0.01, "steps": 10, "span": 0.05, "res": 2}
draw = lambda key, **options: widgets.field_widget(fields[key], step=STEP.get(key), **options)  # noqa: E731

page = open_page("neural_net", FIELDS, scenarios=nl.PAGE_SCENARIOS, default="large_lr", expand=lambda s: {
    f"bs{k}": 0 for k in range(1, SLOTS + 1)} | controls.expand(s, nl.SPARE_RUNS, SLOTS))
page.lesson(
    "A network with a thousand weights has a thousand-dimensional loss landscape: every picture of it is a "
    "**cut**. This page trains a small network and shows the cuts of the research: the loss on the line from "
    "the initial to the trained weights (a); a 2-D slice along random directions rescaled unit by unit, "
    "*filter-normalized* (Li et al. 2018), so that slices of different minima compare (b); the "
    "**sharpness**, the largest Hessian eigenvalue, against the 2/lr limit of gradient descent and Adam's "
    "own limit (c); the plane that best fits the paths, and what it leaves out (d); the predictions (e).")
page.scenario_picker()
with st.sidebar:
    for header, keys in (("Data", "dataset n noise dseed"), ("Network", "layers width act init iscale iseed"),
                         ("Training", "steps runs")):
        st.header(header)
        for key in keys.split():
            draw(key, disabled=key in ("n", "noise", "dseed") and url.current("dataset") == "iris")
    steps, count = int(url.current("steps")), int(url.current("runs"))
    slots = [(controls.optimizer_slot(s, steps, st), int(draw(f"bs{s}"))) for s in range(1, count + 1)]
    st.header("Landscape")
    for key in ("span", "res", "dirseed", "sharp"):
        draw(key)
    draw("biases", format_func={"zero": "fixed (direction 0)", "filter": "part of each unit's filter"}.get)
    st.session_state["focus"] = min(int(url.current("focus", 1)), count)
    draw("focus", options=list(range(1, count + 1)), format_func=lambda i: slots[i - 1][0].label)
active = {f.key for f in BASE}.union(*(controls.active_keys(s) | {f"bs{s}"} for s in range(1, count + 1)))
page.write_link(active)
page.scenario_note(active, ignore=("step",))

runs = None
with shown_errors():
    spec, options = cache.network_spec(url.current), cache.network_options(url.current)
    model, data = cache.network(spec)
    training = cache.network_training(spec, slots, steps, url.current("iseed"))
    if cache.network_affordable(url.current, slots, fields):
        named = [nl.run_label(s.label, b) for (s, _), b in zip(slots, training.batches)]  # batches >= n: full
        runs, views, refine = cache.network_stages(training, named, options)
if runs is None:
    page.stale_picture()

names, focus = [r.label for r in runs], options["focus"]
labels = [text.plotly_label(name) for name in names]
st.caption(nl.summary(model, data))
page.chart(figures.training(runs, labels), "nn_training")
diverged = min(r.last_finite_step for r in runs) < steps
text.notice(nl.final_words(model, runs), "warning" if diverged or any(map(nl.rose, runs)) else "info")
st.subheader("(a) From the initial to the trained weights")
page.chart(figures.interpolation(views["interpolation"], labels), "nn_interpolation")
text.literal(nl.interpolation_words(names, views["interpolation"]))
st.subheader("(b) A 2-D slice around the trained weights")
left, right = st.columns([2, 3])
surface = repr((training, focus, *(options[k] for k in ("span", "direction_seed", "biases"))))  # not its grid
page.chart(figures.slice_surface(views["slices"], labels, focus, surface), "nn_slice_3d", left)
page.chart(figures.slice_contours(views["slices"], labels), "nn_slices", right)
st.caption(nl.slice_words(views["slices"], options["span"], options["direction_seed"]))
st.subheader("(c) Sharpness along training")
page.chart(figures.sharpness(views["sharpness"], labels), "nn_sharpness")
text.literal(nl.sharpness_words(names, views["sharpness"]))


@st.fragment
def picked_step() -> None:
    """The PCA plane and the decision boundaries at the picked step: moving it reruns this part only."""
    st.subheader("(d) The training paths on their PCA plane")
    step = st.session_state["step"] = min(int(url.current("step", steps)), steps)
    left, right = st.columns(2)
    plane = figures.plane(views["plane"], runs, labels, focus, step)
    page.chart(plane, "nn_plane", left, main=True, placed=True)  # painted before the decision boundaries
    page.chart(figures.honesty(views["plane"], labels), "nn_honesty", right)
    text.literal(nl.plane_words(names, views["plane"], focus))
    st.subheader("(e) Decision boundary")
    step = st.slider(fields["step"].title, 0, steps, key="step", help="The exact step; the slider under the "
                     "plane moves its markers in your browser.")
    page.write_link(active)
    decision = cache.network_decision(training, step)
    for i, column in enumerate(st.columns(len(runs))):
        page.chart(figures.decision(decision, i, runs, data, labels), f"nn_decision_{i}", column)


with page.top if page.present else st.container():
    picked_step()
st.info(nl.SHARED_AND_HIDDEN)

st.subheader("Export")
table = lambda name: nl.export_frames(runs, nl.LandscapeViews.of(*views.values()))[name]  # noqa: E731
for column, (name, title) in zip(st.columns(3), (("slices", "Slices"), ("plane", "PCA plane grid"),
                                                 ("trajectories", "Trajectories"))):
    export.csv_button(f"{title} (CSV)", lambda name=name: table(name), f"lossviz_nn_{name}.csv", column,
                      on_click="ignore")  # a rerun could replace the file the browser is asking for
with shown_errors():
    script = cache.network_script(training, names)
    export.code_block(script.code, "Save the script and its CSV files in one folder and run it: it trains as "
                      "this page did and prints each run's final loss and accuracy, the numbers above.")
    export.downloads([("PyTorch script (.py)", lambda: script.code, "lossviz_nn_train.py", "text/x-python")],
                     on_click="ignore")
    for column, (name, data_file) in zip(st.columns(max(len(script.tables), 1)), script.tables.items()):
        export.csv_button(name, data_file, name, column, on_click="ignore")
page.slides("lossviz_nn")
refine()  # the refined views, then a rerun that draws them in place of the coarse ones

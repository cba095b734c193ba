"""Models on data: the exact two-weight landscape of linear and logistic regression, with a loss switch."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz import csvdata, datasets
from lossviz.lessons import models_on_data as dl
from lossviz.settings import OptimizerSetting
from lossviz.ui import cache, controls, nav, upload, url
from lossviz.ui.errors import shown_errors
from lossviz.ui.live_plotly import live_plotly_chart
from lossviz.viz import models_on_data as data_figures
from lossviz.viz.landscape import PALETTE, Path, curves_figure

st.set_page_config(page_title="Models on data · lossviz", layout="wide")
nav.sidebar()
st.title("Models on data")
st.markdown(
    "A model with two parameters has an **exact** loss landscape: every point of the map is one model, "
    "its colour the loss of that model on the whole dataset. Here that is linear regression (slope and "
    "intercept) or logistic regression (two weights, or a weight and a bias). Switch the **loss** and the "
    "same data gives a different surface: add outliers and the MSE bowl slides while MAE and Huber hold; "
    "put squared error behind a sigmoid and plateaus appear where cross-entropy has a slope. Pick a step "
    "with the slider (or click a path) to see that model's line or boundary on the data beside it."
)

SOURCES = [*dl.PRESETS, "csv"]
FIELDS = [
    url.choice_field("source", "linear", SOURCES), url.int_field("n", 100, 20, 2000),
    url.float_field("noise", 0.5, 0.0, 5.0), url.int_field("seed", 0, 0, 10_000),
    url.int_field("nfeat", 1, 1, 2), url.Field("f1", "x", str), url.Field("f2", "", str),
    url.Field("positive", "", str), url.choice_field("loss", "mse", dl.loss_names()),
    url.float_field("delta", 1.0, 0.05, 5.0), url.int_field("outliers", 0, 0, 20),
    url.float_field("outlier_size", 6.0, 0.0, 20.0), url.float_field("x0", -2.0, -50.0, 50.0),
    url.float_field("y0", -2.0, -50.0, 50.0), url.int_field("steps", 100, 1, 2000),
    url.int_field("racers", 1, 1, dl.MAX_RUNS), url.int_field("step", 0, 0, 2000),
    *(f for slot in range(1, dl.MAX_RUNS + 1) for f in controls.slot_fields(slot)),
]


@st.cache_data(max_entries=16, show_spinner=False)
def preset_info(name: str) -> tuple[tuple[str, ...], tuple[str, ...], dict]:
    data = datasets.get(name)
    classes = data.class_names if (data.n_classes or 0) > 2 else ()
    return data.feature_names, classes, datasets.parameters(name)


def dataset_values(source: str) -> dict:
    """Widget values for a freshly chosen dataset: its default features, noise and a loss of its task."""
    if source == "csv":
        return {"nfeat": 1, "f1": "", "f2": "", "positive": ""}
    preset, params = dl.PRESETS[source], preset_info(source)[2]
    values = {"nfeat": len(preset.features), "f1": preset.features[0], "f2": (*preset.features, "")[1],
              "positive": preset.positive or ""}
    if preset.synthetic:
        values |= {"n": params["n_samples"], "noise": params["noise"], "seed": 0}
    if st.session_state.get("loss") not in dl.loss_names(preset.task):
        values["loss"] = dl.loss_names(preset.task)[0]
    return values


def scenario_values(name: str) -> dict:
    sc = dl.SCENARIOS[name]
    values = dataset_values(sc.dataset) | {
        "source": sc.dataset, "nfeat": len(sc.features), "f1": sc.features[0], "f2": (*sc.features, "")[1],
        "loss": sc.loss, "delta": sc.delta, "outliers": sc.outliers, "outlier_size": sc.outlier_size,
        "x0": sc.start[0], "y0": sc.start[1], "steps": sc.steps, "racers": len(sc.optimizers),
        "step": sc.steps,
    }
    values |= {("n" if k == "n_samples" else k): v for k, v in sc.dataset_params.items()}
    for slot, setting in enumerate(sc.optimizers, start=1):
        values |= controls.scenario_values(slot, setting)
    return values


for notice in url.seed_from_url("models", FIELDS):
    st.warning(notice)
# A click on a path selects one of its invisible step targets: that step becomes the chosen one (before the
# URL is written), and the chart gets a fresh key so the selection, which would dim the map, does not stay.
chart_key = f"data_landscape_{st.session_state.setdefault('_data_clicks', 0)}"
picked = [p for p in st.session_state.get(chart_key, {}).get("selection", {}).get("points", [])
          if "customdata" in p]
if picked:
    st.session_state["step"] = int(np.ravel(picked[0]["customdata"])[0])
    st.session_state["_data_clicks"] += 1
    chart_key = f"data_landscape_{st.session_state['_data_clicks']}"
if not st.query_params and "_models_defaults" not in st.session_state:
    url.apply_values({"o1_sgd_lr": 0.1, "_models_defaults": True})  # torch's SGD default 1e-3 barely moves

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *dl.SCENARIOS], key="data_scenario_pick",
                          format_func=lambda n: n if n == "—" else dl.SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        url.apply_values(scenario_values(choice) | {"data_scenario_note": choice})
        st.rerun()
    st.header("Data")
    source = st.selectbox("dataset", SOURCES, key="source",
                          on_change=lambda: url.apply_values(dataset_values(st.session_state["source"])),
                          format_func=lambda n: "Your own CSV file" if n == "csv" else dl.PRESETS[n].title)
    table, task, chosen, positive, class_options = None, "regression", [], "", ()
    if source == "csv":
        uploaded, table = upload.csv_upload()
        if table is not None:
            target, task, features, class_options = upload.csv_columns(table)
    else:
        names, class_options, _ = preset_info(source)
        task, features = dl.PRESETS[source].task, list(names)
        if dl.PRESETS[source].synthetic:
            st.slider("samples", 20, 2000, step=10, key="n")
            st.slider("noise", 0.0, 5.0, step=0.05, key="noise")
            st.number_input("seed", 0, 10_000, step=1, key="seed")
    if source != "csv" or table is not None:
        if len(features) < 2:
            st.session_state["nfeat"] = 1
        known = features if table is None else [str(c) for c in table.columns]
        upload.keep_choice("f1", features, known)
        nfeat = st.radio("features", (1, 2), key="nfeat", horizontal=True, disabled=len(features) < 2,
                         format_func=lambda k: "one (w, b)" if k == 1 else "two (w₁, w₂)")
        chosen = [st.selectbox("feature", features, key="f1")]
        if nfeat == 2:
            others = [f for f in features if f != chosen[0]]
            upload.keep_choice("f2", others, known)
            chosen.append(st.selectbox("second feature", others, key="f2"))
        if class_options:
            upload.keep_choice("positive", list(class_options), class_options, last=True)
            positive = st.selectbox("positive class (vs the rest)", class_options, key="positive")
    st.header("Model and loss")
    if st.session_state.get("loss") not in dl.loss_names(task):
        if source != "csv":  # a CSV's task is the user's choice; a preset's is fixed, so this is a bad link
            st.warning(f"loss={st.session_state.get('loss')!r} does not suit a {task}; using "
                       f"{dl.loss_names(task)[0]!r}.")
        st.session_state["loss"] = dl.loss_names(task)[0]
    loss = st.selectbox("loss", dl.loss_names(task), key="loss",
                        format_func=lambda k: dl.LOSS_CHOICES[k].title)
    delta = st.slider("Huber δ", 0.05, 5.0, step=0.05, key="delta") if loss == "huber" else 1.0
    outliers, outlier_size = 0, 6.0
    if task == "regression":
        outliers = st.slider("outliers (targets moved up)", 0, 20, key="outliers")
        outlier_size = st.slider("outlier size (sd of y)", 0.0, 20.0, step=0.5, key="outlier_size")
    st.header("Optimizers")
    c1, c2 = st.columns(2)
    start = (c1.number_input("start (1st axis)", -50.0, 50.0, key="x0", format="%.3g"),
             c2.number_input("start (2nd axis)", -50.0, 50.0, key="y0", format="%.3g"))
    steps = st.slider("steps", 1, 2000, key="steps")
    racers = st.slider("optimizers", 1, dl.MAX_RUNS, key="racers")
    settings = [controls.optimizer_slot(slot, steps, st) for slot in range(1, racers + 1)]

st.session_state["step"] = min(int(st.session_state.get("step", 0)), steps)
synthetic = source in dl.PRESETS and dl.PRESETS[source].synthetic
active = {"source", "nfeat", "f1", "loss", "x0", "y0", "steps", "racers", "step"}
active |= {k for s in range(1, racers + 1) for k in controls.active_keys(s)}
active |= {"f2"} if len(chosen) == 2 else set()
active |= ({"positive"} if class_options else set()) | ({"n", "noise", "seed"} if synthetic else set())
active |= {"delta"} if loss == "huber" else set()
active |= {"outliers", "outlier_size"} if task == "regression" else set()
url.write([f for f in FIELDS if f.key in active])

note = st.session_state.get("data_scenario_note")
if note in dl.SCENARIOS:
    changed = [k for k, v in scenario_values(note).items()
               if k in active - {"step"} and st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{dl.SCENARIOS[note].title}” loaded, then changed "
                   f"({', '.join(changed[:4])}): its text no longer describes this picture. Load it again "
                   "to return.")
    else:
        st.info(f"**{dl.SCENARIOS[note].title}.** {dl.SCENARIOS[note].explanation}")


def explore(data, loss, delta, outliers, size, setting_keys, start, steps) -> dl.Exploration:
    built = [OptimizerSetting(n, dict(h), s, dict(sp), label) for n, h, s, sp, label in setting_keys]
    return dl.explore(data, loss, delta=delta, outliers=outliers, outlier_size=size, settings=built,
                      start=start, steps=steps)


@st.cache_resource(max_entries=32, show_spinner="Computing the landscape…")
def preset_exploration(source: str, features: tuple, positive: str, params: tuple, *args) -> dl.Exploration:
    return explore(dl.load_dataset(source, features, positive or None, **dict(params)), *args)


if source == "csv" and table is None:
    st.info("Upload a CSV file in the sidebar: a header row of column names, then at least 10 rows of "
            "numbers (a text column can be a classification target). It is read in memory for this session "
            "only.")
    st.stop()
ex = None
with shown_errors():
    args = (loss, delta, outliers, outlier_size, tuple(cache.setting_key(s) for s in settings), start, steps)
    if source == "csv":
        key = (uploaded.file_id, target, task, tuple(chosen), positive, args)
        memo = st.session_state.get("_csv_explore")
        if memo is None or memo[0] != key:  # one entry, in this session only
            data = csvdata.to_dataset(table, target, chosen, task, positive or None, uploaded.name)
            st.session_state["_csv_explore"] = memo = (key, explore(data, *args))
        ex = memo[1]
    else:
        params = (("n_samples", st.session_state["n"]), ("noise", st.session_state["noise"]),
                  ("seed", st.session_state["seed"])) if synthetic else ()
        ex = preset_exploration(source, tuple(chosen), positive, params, *args)
if ex is None:
    st.stop()

land = ex.landscape
paths = [Path(r.label, PALETTE[i % len(PALETTE)], r.trajectory.params, r.trajectory.loss,
              int(r.trajectory.diverged_at), r.verdict) for i, r in enumerate(ex.runs)]
step = st.slider("step on the trajectory (or click a path on the map)", 0, steps, key="step")

left, right = st.columns(2)
contour, surface = left.tabs(["Landscape (contour)", "Landscape (3-D)"])
contour.plotly_chart(data_figures.landscape_figure(ex, paths, step, start), width="stretch", key=chart_key,
                     on_select="rerun", selection_mode="points")
live_plotly_chart(data_figures.landscape_surface(ex, paths), key="data_surface_chart", container=surface)
right.plotly_chart(data_figures.data_figure(ex, paths, step), width="stretch", key="data_view_chart")

where = "lowest point in view" if ex.best_on_edge else "minimum"
best = np.where(np.abs(ex.best) < 1e-9 * max(1.0, np.abs(ex.best).max()), 0.0, ex.best)  # no "8.6e-17"
sampled = (f" The landscape uses a random sample of {land.dataset.n_samples:,} of the {ex.n_rows:,} rows."
           if ex.n_rows > land.dataset.n_samples else "")
st.caption(f"**{land.choice.title}** on {land.dataset.description or land.dataset.name} The {where}"
           f"{' (the minimum lies beyond the map)' if ex.best_on_edge else ''} is at {land.param_names[0]} = "
           f"{best[0]:.4g}, {land.param_names[1]} = {best[1]:.4g}, loss {ex.best_value:.4g}.{sampled}")
for r in ex.runs:
    bad = r.trajectory.diverged_at >= 0 or "never moved" in r.verdict or "did not go down" in r.verdict
    (st.warning if bad or "plateau" in r.verdict else st.success)(f"**{r.label}**: {r.verdict}")
if ex.robust is not None:
    st.markdown("**Where each loss puts its minimum** (on the map: open markers without the outliers, "
                "filled with them)")
    st.dataframe(dl.robust_table(ex).round(4), hide_index=True, width="stretch")
if paths:
    st.plotly_chart(curves_figure([(p.label, p.color, p.z) for p in paths], log_y=False,
                                  ylabel=land.choice.title, hlines=[(ex.best_value, where)]),
                    width="stretch", key="data_loss_chart")

st.subheader("Export")
grid = pd.DataFrame(ex.Z, index=pd.Index(ex.ys, name=land.param_names[1]), columns=ex.xs)
exports = [("Trajectories (CSV)", dl.trajectories_frame(ex).to_csv(index=False), "lossviz_trajectories.csv"),
           ("Landscape grid (CSV)", grid.to_csv(), "lossviz_data_landscape.csv"),
           ("Model data (CSV)", dl.model_data_frame(land).to_csv(index=False), dl.DATA_FILE_NAME)]
for column, (label, text, name) in zip(st.columns(3), exports):
    column.download_button(label, text, name, "text/csv")
st.caption(f"Model data: the standardized features and target as the model sees them; the PyTorch code "
           f"reads it as {dl.DATA_FILE_NAME} when the data is too large to write into the script.")
with st.expander("Equivalent PyTorch code"):
    for r in ex.runs:
        st.markdown(f"**{r.label}**")
        with shown_errors():
            st.code(dl.torch_code(land, r.optimizer, r.schedule, steps=steps, x0=start), language="python")

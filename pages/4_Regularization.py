"""Regularization & weight decay: L1's exact zeros against L2's shrinkage, and Adam + L2 against AdamW."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz import datasets, landscape, models
from lossviz.lessons import regularization as regpath
from lossviz.ui import nav, url
from lossviz.ui.errors import shown_errors
from lossviz.viz import regularization as figures
from lossviz.viz.landscape import curves_figure
from lossviz.viz.batch_size import view_box

st.set_page_config(page_title="Regularization & weight decay · lossviz", layout="wide")
nav.sidebar()
st.title("Regularization & weight decay")
st.markdown(
    "A penalty on the weights trades a little fit for smaller weights. Which weights, and how, depends on "
    "the penalty's **shape**: the regularized minimizer is where a level set of the data loss (the ellipses) "
    "first touches a level set of the penalty. L2's level sets are circles, which touch anywhere, so "
    "weights shrink but never reach zero; L1's are diamonds, whose corners sit on the axes, so the touch "
    "is often at a corner, where one weight is **exactly zero**. Below, linear regression with two weights "
    "on the diabetes data (standardized, so no intercept is needed). Last, weight decay in Adam: added to "
    "the gradient (L2) or applied on its own (AdamW), which is not the same thing."
)

FEATURES = list(datasets.get(regpath.DATASET).feature_names)
PENALTIES = list(regpath.PENALTIES)
FIELDS = [
    url.choice_field("f1", "bmi", FEATURES), url.choice_field("f2", "bp", FEATURES),
    url.choice_field("penalty", "l1", PENALTIES), url.float_field("strength", 0.8, 0.0, 5.0),
    url.float_field("l1_ratio", 0.5, 0.0, 1.0), url.float_field("decay", 4.0, 0.0, 20.0),
    url.float_field("lr", 0.01, 1e-5, 1.0), url.int_field("steps", 1500, 10, 5000),
    url.float_field("w0x", -1.0, -5.0, 5.0), url.float_field("w0y", 1.0, -5.0, 5.0),
]


def scenario_values(name: str) -> dict:
    sc = regpath.SCENARIOS[name]
    return {"f1": sc.features[0], "f2": sc.features[1], "penalty": sc.penalty, "strength": sc.strength,
            "l1_ratio": sc.l1_ratio, "decay": sc.weight_decay, "lr": sc.lr, "steps": sc.steps,
            "w0x": sc.start[0], "w0y": sc.start[1]}


notices = url.seed_from_url("regularization", FIELDS)
for notice in notices:
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *regpath.SCENARIOS], key="scenario_pick",
                          format_func=lambda n: n if n == "—" else regpath.SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        url.apply_values(scenario_values(choice) | {"reg_scenario": choice})
        st.rerun()
    st.header("Data: two features")
    c1, c2 = st.columns(2)
    features = (c1.selectbox("first weight", FEATURES, key="f1"),
                c2.selectbox("second weight", FEATURES, key="f2"))
    st.header("Penalty")
    penalty = st.radio("penalty", PENALTIES, key="penalty", format_func=figures.PENALTY_TITLES.get,
                       horizontal=True)
    l1_ratio = st.slider("elastic-net mix ρ (share of L1)", 0.0, 1.0, step=0.05, key="l1_ratio",
                         disabled=penalty != "elastic_net")
    strength = st.slider("strength λ", 0.0, 5.0, step=0.01, key="strength")
    st.header("Adam + L2 vs AdamW")
    decay = st.slider("weight decay λ (all three optimizers)", 0.0, 20.0, step=0.1, key="decay")
    lr = st.number_input("learning rate (Adam, AdamW, SGD)", 1e-5, 1.0, step=0.001, format="%.4g", key="lr")
    steps = st.slider("steps", 10, 5000, key="steps")
    c1, c2 = st.columns(2)
    start = (c1.number_input("start, first weight", -5.0, 5.0, step=0.1, key="w0x"),
             c2.number_input("start, second weight", -5.0, 5.0, step=0.1, key="w0y"))
url.write(FIELDS)

scenario = st.session_state.get("reg_scenario")
if scenario in regpath.SCENARIOS:
    changed = [k for k, v in scenario_values(scenario).items() if st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{regpath.SCENARIOS[scenario].title}” loaded, then changed "
                   f"({', '.join(changed[:4])}): its text no longer describes this picture.")
    else:
        st.info(f"**{regpath.SCENARIOS[scenario].title}.** {regpath.SCENARIOS[scenario].explanation}")


@st.cache_data(max_entries=32, show_spinner="Solving the regularization paths…")
def lesson(features: tuple, penalty: str, strength: float, l1_ratio: float) -> regpath.RegularizationView:
    data = regpath.load_data(features)
    ols, _ = regpath.regularized_minimizer(data.X, data.y, "l2", 0.0)
    xs, ys = landscape.axes_for_domain(view_box(np.array([ols, [0.0, 0.0]]), margin=0.45), 121)
    return regpath.regularization_view(data.X, data.y, penalty, strength, l1_ratio=l1_ratio, xs=xs, ys=ys)


# Resource cache: the result holds optimizers (closures, not picklable); it is only read.
@st.cache_resource(max_entries=32, show_spinner="Running SGD, Adam and AdamW…")
def decay_race(features: tuple, decay: float, lr: float, steps: int, start: tuple) -> tuple:
    data = regpath.load_data(features)
    result = regpath.weight_decay_comparison(data.X, data.y, decay, lr=lr, steps=steps, x0=start)
    points = np.vstack([result.unregularized_minimizer, [0.0, 0.0], start])
    xs, ys = landscape.axes_for_domain(view_box(points, margin=0.3), 101)
    model = models.linear_regression(data.X, data.y, fit_intercept=False)
    return result, xs, ys, landscape.grid(model, xs, ys)


view = None
with shown_errors():
    view = lesson(features, penalty, float(strength), float(l1_ratio))
if view is None:
    st.stop()

title = figures.PENALTY_TITLES[penalty]
names = features
left, right = st.columns(2)
left.subheader("Where the penalty meets the data")
left.plotly_chart(figures.geometry_figure(
    view.xs, view.ys, view.data_Z, view.penalty_Z, paths=list(view.paths.values()), penalty=penalty,
    minimizer=view.minimizer, ols=view.ols, data_level=view.data_level, penalty_level=view.penalty_level,
    strength=float(strength), names=names), width="stretch", key="geometry_chart")
right.subheader(f"The regularized loss: data + {title}")
right.plotly_chart(figures.regularized_figure(view.xs, view.ys, view.total_Z, minimizer=view.minimizer,
                                              penalty=penalty, names=names),
                   width="stretch", key="total_chart")
zeros = [n for n, w in zip(names, view.minimizer) if w == 0.0]
estimator, params = view.sklearn
st.caption(
    f"At λ = {strength:g} the {title} minimizer is ({view.minimizer[0]:.4f}, {view.minimizer[1]:.4f}), "
    "against "
    f"least squares ({view.ols[0]:.4f}, {view.ols[1]:.4f}); "
    + (f"**{' and '.join(zeros)} exactly 0**. " if zeros else "no weight is exactly 0. ")
    + (f"Every weight is 0 from λ = {view.all_zero:.4g}. " if np.isfinite(view.all_zero) else
       "L2 never makes a weight exactly 0. ")
    + f"Same minimizer in scikit-learn: `{estimator}({', '.join(f'{k}={v:.6g}' for k, v in params.items())}, "
    "fit_intercept=False)`: its loss is half of ours (or n/2 times, for Ridge)."
)

st.subheader("The regularization path: from least squares (λ → 0) to nothing (λ large)")
st.plotly_chart(figures.path_figure(list(view.paths.values()), strength=float(strength), names=names),
                width="stretch", key="path_chart")
knots = [f"{n}: {path.zero_from[j]:.4g} ({figures.PENALTY_TITLES[p]})" for p, path in view.paths.items()
         for j, n in enumerate(names) if np.isfinite(path.zero_from[j])]
st.caption("Exactly zero from λ = " + "; ".join(knots) + ". The ridge weights only approach 0. The zeros are "
           "exact, not rounded: coordinate descent's soft-thresholding sets them to 0.0, and the optimality "
           "conditions are checked.")

st.subheader("Adam + L2 is not AdamW")
st.markdown(
    "All three runs use the same λ. **SGD** adds λw to the gradient, which is the gradient of (λ/2)‖w‖²: "
    "L2 regularization and weight decay are the same thing, and it ends at the ridge minimizer. **Adam + "
    "L2** (`torch.optim.Adam(weight_decay=λ)`) adds λw too, and also ends there, but on the way the decay is "
    "divided by √v̂ like the rest of the gradient. **AdamW** shrinks the weights by lr·λ·w outside Adam's "
    "scaling: no penalty has that gradient, and it ends somewhere else: as the learning rate goes to 0, at "
    "the best fit inside the box |w_j| ≤ 1/λ (Xie & Li, 2024)."
)
race = None
with shown_errors():
    race = decay_race(features, float(decay), float(lr), int(steps), (float(start[0]), float(start[1])))
if race is not None:
    result, xs, ys, Z = race
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.decay_figure(xs, ys, Z, result, weight_decay=float(decay), names=names),
                      width="stretch", key="decay_chart")
    series = list(zip(result.labels, figures.DECAY_COLORS, result.distances("ridge")))
    right.plotly_chart(curves_figure(series, ylabel="distance to the ridge minimizer", height=520),
                       width="stretch", key="decay_distance_chart")
    ends = [f"**{label}** ends at ({t.params[-1][0]:.4f}, {t.params[-1][1]:.4f})"
            for label, t in zip(result.labels, result.trajectories)]
    ridge, box = result.ridge_minimizer, result.box_minimizer
    st.caption("; ".join(ends) + f". Ridge minimizer ({ridge[0]:.4f}, {ridge[1]:.4f}); "
               f"AdamW's small-lr limit ({box[0]:.4f}, {box[1]:.4f}).")

st.subheader("Export")
c1, c2 = st.columns(2)
table = pd.concat([path.to_frame(names) for path in view.paths.values()])
c1.download_button("Regularization paths (CSV)", table.to_csv(index=False),
                   "lossviz_regularization_paths.csv", "text/csv")
if race is not None:
    frames = []
    for label, t in zip(race[0].labels, race[0].trajectories):
        frame = t.to_frame().drop(columns="run")
        frame.insert(0, "optimizer", label)
        frames.append(frame)
    c2.download_button("SGD / Adam / AdamW runs (CSV)", pd.concat(frames).to_csv(index=False),
                       "lossviz_weight_decay_runs.csv", "text/csv")
    with st.expander("Equivalent PyTorch code"):
        for label, opt in zip(race[0].labels, race[0].optimizers):
            st.markdown(f"**{label}**")
            st.code(regpath.torch_script(opt, names, steps=int(steps), x0=start), language="python")

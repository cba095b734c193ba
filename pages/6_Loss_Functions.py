"""Loss functions: regression losses against the residual, classification losses against the margin."""
import numpy as np
import pandas as pd
import streamlit as st

from lossviz.lessons import loss_functions as loss_curves
from lossviz._validation import check_choice
from lossviz.lessons.loss_functions import CLASSIFICATION, INFO, REGRESSION, SCENARIOS
from lossviz.ui import nav, url
from lossviz.ui.errors import shown_errors
from lossviz.viz import loss_functions as loss_figures

st.set_page_config(page_title="Loss functions · lossviz", layout="wide")
nav.sidebar()
st.title("Loss functions")
st.markdown(
    "A loss turns each prediction's error into a number to minimize, and its **gradient** is the push "
    "that training gives each sample. For regression the error is the **residual** r = ŷ − y: squared "
    "error punishes large residuals quadratically and pushes hardest on them, absolute error pushes every "
    "sample equally, Huber and log-cosh do one near zero and the other far out. For classification what "
    "matters is the **margin** m = y·s (label ±1 times score): positive on the right side of the boundary. "
    "The 0-1 loss counts mistakes but has no slope to follow; hinge and logistic losses are the smooth "
    "stand-ins that training uses. Every setting is in the page's address: copy it to share this view."
)


def names_field(key: str, default: tuple[str, ...], allowed: tuple[str, ...]) -> url.Field:
    def parse(text: str) -> list[str]:
        chosen = [check_choice(item, key, allowed) for item in text.split(",") if item]
        return list(dict.fromkeys(chosen))

    return url.Field(key, list(default), parse, lambda v: ",".join(v))


FIELDS = [
    names_field("reg", REGRESSION, REGRESSION), names_field("cls", CLASSIFICATION, CLASSIFICATION),
    url.float_field("delta", 1.0, 0.05, 5.0), url.float_field("span", 3.0, 1.0, 10.0),
    url.Field("ex_y", loss_curves.EXAMPLE_Y, str), url.Field("ex_yhat", loss_curves.EXAMPLE_Y_PRED, str),
]


def scenario_values(name: str) -> dict:
    sc = SCENARIOS[name]
    return {"reg": list(sc.regression), "cls": list(sc.classification), "delta": sc.delta, "span": 3.0,
            "ex_y": sc.y, "ex_yhat": sc.y_pred}


notices = url.seed_from_url("losses", FIELDS)
for notice in notices:
    st.warning(notice)

with st.sidebar:
    st.header("Classroom scenarios")
    choice = st.selectbox("scenario", ["—", *SCENARIOS], key="loss_scenario_pick",
                          format_func=lambda n: n if n == "—" else SCENARIOS[n].title)
    if st.button("Load scenario", disabled=choice == "—", width="stretch"):
        url.apply_values(scenario_values(choice) | {"loss_scenario_note": choice})
        st.rerun()
    st.header("Curves")
    regression = st.multiselect("regression losses", REGRESSION, key="reg",
                                format_func=lambda k: INFO[k].title)
    classification = st.multiselect("classification losses", CLASSIFICATION, key="cls",
                                    format_func=lambda k: INFO[k].title)
    delta = st.slider("Huber δ", 0.05, 5.0, step=0.05, key="delta",
                      help="Where Huber switches from squared (inside) to absolute (outside).")
    span = st.slider("range of r and m (±)", 1.0, 10.0, step=0.5, key="span")

url.write(FIELDS)

note = st.session_state.get("loss_scenario_note")
if note in SCENARIOS:
    changed = [k for k, v in scenario_values(note).items() if st.session_state.get(k) != v]
    if changed:
        st.caption(f"Scenario “{SCENARIOS[note].title}” loaded, then changed ({', '.join(changed)}): "
                   "its text "
                   "no longer describes this picture. Load it again to return.")
    else:
        st.info(f"**{SCENARIOS[note].title}.** {SCENARIOS[note].explanation}")


@st.cache_data(max_entries=64, show_spinner=False)
def curves(kind: str, keys: tuple[str, ...], delta: float, span: float) -> pd.DataFrame:
    points = np.linspace(-span, span, 601)
    if kind == "regression":
        return loss_curves.regression_curves(keys, points, delta)
    return loss_curves.margin_curves(keys, points)


reg_frame = cls_frame = None
with shown_errors():
    reg_frame = curves("regression", tuple(regression), delta, span)
    cls_frame = curves("classification", tuple(classification), delta, span)
if reg_frame is None or cls_frame is None:
    st.stop()

st.subheader("Regression losses, as functions of the residual")
if regression:
    left, right = st.columns(2)
    left.plotly_chart(loss_figures.curves_figure(reg_frame, regression, delta=delta), width="stretch",
                      key="reg_loss_chart")
    right.plotly_chart(loss_figures.curves_figure(reg_frame, regression, gradient=True, delta=delta),
                       width="stretch", key="reg_grad_chart")
    st.caption(
        f"At r = ±{span:g}: " + ", ".join(
            f"{INFO[k].title} {reg_frame[k].iloc[-1]:.3g} "
            f"(gradient {reg_frame[k + '_gradient'].iloc[-1]:.3g})"
            for k in regression)
        + ". The gradient is the pull on a prediction: MSE's grows with the error, MAE's is ±1 whatever the "
        "error, Huber's is capped at ±δ, log-cosh's bends smoothly from one to the other. RMSE of one "
        "sample is |r|; over n samples its gradient r/(n·RMSE) depends on all of them."
    )
else:
    st.info("Choose at least one regression loss in the sidebar to draw its curve.")

st.subheader("Classification losses, as functions of the margin")
if classification:
    left, right = st.columns(2)
    top = span + 1.5
    left.plotly_chart(loss_figures.curves_figure(cls_frame, classification, y_range=(-0.1 * top, top)),
                      width="stretch", key="cls_loss_chart")
    right.plotly_chart(loss_figures.curves_figure(cls_frame, classification, gradient=True,
                                                  y_range=(-2.2, 0.4)), width="stretch", key="cls_grad_chart")
    st.caption(
        "Margin m > 0: right side of the boundary; m < 0: a mistake. The 0-1 loss is flat on both sides "
        "(gradient 0, undefined at m = 0). Hinge is exactly 0 beyond m = 1; logistic and cross-entropy "
        "are the same curve, log(1 + e^(−m)), and never quite reach 0. Steeper curves leave the plot."
    )
else:
    st.info("Choose at least one classification loss in the sidebar to draw its curve.")

st.subheader("The formulas")
header = st.columns([1.1, 3, 3, 3])
for column, text in zip(header, ("**loss**", "**per sample**", "**gradient**",
                                "**PyTorch** (F = torch.nn.functional)")):
    column.markdown(text)
for key in [*regression, *classification]:
    info = INFO[key]
    row = st.columns([1.1, 3, 3, 3], vertical_alignment="center")
    row[0].markdown(f"**{info.title}**")
    row[1].latex(info.formula)
    row[2].latex(info.gradient)
    row[3].code(info.torch.replace("δ", f"{delta:g}"), language="python", wrap_lines=True)
st.caption("r = ŷ − y; m = y·s with y = ±1 and s the score; σ(s) = 1/(1 + e^(−s)). Cross-entropy "
           "−[t log σ(s) + (1 − t) log(1 − σ(s))] with the 0/1 label t = (1 + y)/2 is −log σ(m). Every loss "
           "is averaged over the samples: L = (1/n) Σ ℓ, so the gradient of L carries a 1/n.")

st.subheader("Worked example")
st.markdown("Edit the targets and the predictions (numbers separated by commas): every loss is recomputed.")
c1, c2 = st.columns(2)
y_text = c1.text_input("targets y", key="ex_y", max_chars=loss_curves.MAX_NUMBER_TEXT)
yhat_text = c2.text_input("predictions ŷ", key="ex_yhat", max_chars=loss_curves.MAX_NUMBER_TEXT)
example = None
with shown_errors():
    y_values = loss_curves.parse_numbers(y_text, "targets y")
    yhat_values = loss_curves.parse_numbers(yhat_text, "predictions ŷ")
    per_sample, totals = loss_curves.worked_example(y_values, yhat_values, delta)
    example = (per_sample, totals, loss_curves.worked_latex(y_values, yhat_values, delta))
if example is not None:
    per_sample, totals, formulas = example
    metrics = st.columns(len(totals))
    for column, (key, value) in zip(metrics, totals.items()):
        column.metric(INFO[key].title if key != "huber" else f"Huber (δ = {delta:g})", f"{value:.4g}")
    left, right = st.columns([3, 2])
    with left:
        for key in REGRESSION:
            st.latex(formulas[key])
    right.plotly_chart(loss_figures.example_figure(per_sample), width="stretch", key="example_chart")
    st.dataframe(per_sample.rename(columns={"y_pred": "ŷ", "residual": "r = ŷ − y", "squared": "r²",
                                            "absolute": "|r|", "log_cosh": "log cosh r"}),
                 width="stretch", hide_index=True)
    worst = int(np.argmax(per_sample["squared"]))
    share = per_sample["squared"].iloc[worst] / max(per_sample["squared"].sum(), 1e-300)
    absolute_share = per_sample["absolute"].iloc[worst] / max(per_sample["absolute"].sum(), 1e-300)
    st.caption(f"Sample {worst + 1} carries {share:.0%} of the MSE and {absolute_share:.0%} of the MAE.")

st.subheader("Export")
c1, c2, c3 = st.columns(3)
c1.download_button("Regression curves (CSV)", reg_frame.to_csv(index=False), "lossviz_regression_losses.csv",
                   "text/csv")
c2.download_button("Classification curves (CSV)", cls_frame.to_csv(index=False),
                   "lossviz_classification_losses.csv", "text/csv")
if example is not None:
    c3.download_button("Worked example (CSV)", example[0].to_csv(index=False), "lossviz_worked_example.csv",
                       "text/csv")
    with st.expander("Equivalent PyTorch code"):
        st.code(loss_curves.torch_example_code(y_values, yhat_values, delta), language="python")

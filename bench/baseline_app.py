"""The browser benchmark's baseline: a trivial one-figure Streamlit page (a slider and a line it moves).

Every page's key press to updated figure is compared with this page's, measured in the same run on the
same machine: the part of the latency no page of lossviz can avoid (Streamlit's rerun round trip and a
Plotly redraw).
"""
import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="baseline", layout="wide")
st.title("Baseline")
n = st.slider("frequency", 1, 100, 3, key="frequency")
x = np.linspace(0.0, 1.0, 200)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=np.sin(2 * np.pi * n * x), mode="lines")), key="baseline_chart")

"""The sidebar navigation, drawn from the catalogue by every page.

Streamlit's automatic page list names the home page after its file ("app") and, when a shared link
opens a page directly, runs that page without the entry script; so the automatic list is switched off
(``client.showSidebarNavigation = false``) and every page draws this one instead.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lossviz.ui.catalog import PAGES


def sidebar() -> None:
    """Links to Home and to every page that exists, at the top of the sidebar.

    Links resolve against the entry script; when a page runs as its own entry script (AppTest runs
    page files directly) there is no app to link to, and the navigation is left out.
    """
    ctx = get_script_run_ctx()
    if ctx is None or Path(ctx.main_script_path).name != "app.py":
        return
    with st.sidebar:
        st.page_link("app.py", label="Home")
        for page in PAGES:
            if page.exists:
                st.page_link(page.path, label=page.title)
        st.divider()

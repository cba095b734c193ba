"""The sidebar navigation, drawn from the catalogue by every page.

Streamlit's automatic page list names the home page after its file ("app") and, when a shared link
opens a page directly, runs that page without the entry script; so the automatic list is switched off
(``client.showSidebarNavigation = false``) and every page draws this one instead.
"""
from __future__ import annotations

import streamlit as st

from lossviz.ui.catalog import PAGES


def sidebar() -> None:
    """Links to Home and to every page that exists, at the top of the sidebar."""
    with st.sidebar:
        st.page_link("app.py", label="Home")
        for page in PAGES:
            if page.exists:
                st.page_link(page.path, label=page.title)
        st.divider()

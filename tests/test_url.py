"""URL state: values from a link, memory of hidden widgets, and lazy fields kept out of session state."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lossviz.ui import url


def _page():
    import streamlit as st

    from lossviz.ui import url

    fields = [url.int_field("n", 3, 1, 10),
              *(url.lazy(url.float_field(f"k{i}", 0.5, 0.0, 1.0)) for i in range(50))]
    url.seed_from_url("test", fields)
    if st.button("preset", key="preset"):
        url.apply_values({"k1": 0.25, "k40": 0.75})
    n = st.slider("n", 1, 10, key="n")
    for i in range(n):
        url.restore(f"k{i}")
        st.slider(f"k{i}", 0.0, 1.0, key=f"k{i}")
    st.session_state["in_state"] = sorted(k for k in st.session_state
                                          if k.startswith("k") and k[1:].isdigit())


def _app(query=None) -> AppTest:
    at = AppTest.from_function(_page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_lazy_fields_stay_out_of_session_state_until_drawn():
    at = _app()
    assert not at.exception
    assert at.session_state["in_state"] == ["k0", "k1", "k2"]
    assert [s.value for s in at.slider][1:] == [0.5, 0.5, 0.5]


def test_a_link_value_of_a_lazy_field_reaches_its_widget_when_it_is_drawn():
    at = _app({"k7": "0.125", "n": "3"})
    assert "k7" not in at.session_state["in_state"]
    at.slider(key="n").set_value(8).run()
    assert at.slider(key="k7").value == 0.125


def test_a_hidden_lazy_widget_comes_back_as_the_user_left_it():
    at = _app()
    at.slider(key="k2").set_value(0.9).run()
    at.slider(key="n").set_value(1).run()
    at.run()  # Streamlit drops the hidden widgets' state at the end of a run
    assert at.session_state["in_state"] == ["k0"]
    at.slider(key="n").set_value(3).run()
    assert at.slider(key="k2").value == 0.9


def test_a_preset_sets_drawn_and_undrawn_lazy_fields_without_filling_session_state():
    at = _app()
    at.button(key="preset").click().run()
    at.run()
    assert at.slider(key="k1").value == 0.25  # drawn: set at once
    assert "k40" not in at.session_state["in_state"]  # not drawn: remembered only
    assert at.session_state["_url_memory::test"]["k40"] == 0.75
    assert not at.exception


def test_an_on_off_link_value_reads_the_words_a_person_types_and_refuses_the_rest():
    import pytest

    from lossviz.ui import url

    field = url.bool_field("present", False, "projector mode")
    for text in ("1", "true", "True", "YES", " on "):
        assert field.parse(text) is True, text
    for text in ("0", "false", "FALSE", "no", "Off"):
        assert field.parse(text) is False, text
    for text in ("", "2", "tru", "y", "1.0", "on off", "<b>yes</b>"):
        with pytest.raises(ValueError, match="must be 1 or 0"):
            field.parse(text)
    assert field.dump(True) == "1" and field.dump(False) == "0"  # the link is written as before


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "**b**", "", "0x10", "1,5"])
def test_a_refused_link_number_says_the_range_it_must_be_in(text):
    field = url.float_field("kappa", 50.0, 1.0, 1000.0, "condition number κ")
    with pytest.raises(ValueError, match=r"a number in \[1, 1000\]"):
        field.parse(text)

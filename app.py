"""lossviz: the entry point. It builds the navigation from the catalogue and runs the page a link asks for."""
import streamlit as st

from lossviz.ui import nav
from lossviz.ui.catalog import PAGES


def home() -> None:
    """What the lab is and what each page teaches."""
    st.set_page_config(page_title="lossviz: loss landscapes in the browser", layout="wide")
    st.title("lossviz: a loss-landscape lab")
    st.markdown(
        """
    Training a model means walking downhill on a **loss surface**. lossviz lets you see that surface and
    watch optimizers descend it in real time, while you turn the knobs that matter: the learning rate and
    its schedule, momentum, weight decay, L1/L2 regularization, batch size, and the loss function itself.

    Every number comes from a NumPy core whose gradients are checked against finite differences and whose
    optimizers and schedules follow `torch.optim` step for step, so what you see here is what PyTorch would
    do with the same settings. It is made for **teachers** putting gradient descent on a projector,
    **students** exploring on their own, and **practitioners** asking why a learning rate "should work" and
    doesn't.
    """
    )

    st.subheader("Pages")
    columns = st.columns(2)
    for index, page in enumerate(PAGES):
        with columns[index % 2].container(border=True):
            if page.exists:
                st.page_link(page.path, label=f"**{page.title}**")
            else:
                st.markdown(f"**{page.title}** · *in preparation*")
            st.caption(page.teaches)

    st.caption(
        "Every view can be shared: its settings live in the page's URL. "
        "The library runs without the app too: `import lossviz` in a notebook."
    )


nav.navigation(home).run()

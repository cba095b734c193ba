"""The catalogue of pages: one place that says what each page teaches.

The entry point builds the navigation from it and the home page lists it; a page that is not written yet
is shown as "in preparation" instead of a dead link, so the home page never promises what is not there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageInfo:
    id: str  # the page's name in code: its lesson, figures and tests carry it (lessons/<id>.py, ...)
    path: str  # relative to the repository root, as st.page_link wants it
    title: str
    teaches: str

    @property
    def url_path(self) -> str:
        """``pages/2_Learning_Rate.py`` -> ``Learning_Rate`` (what a shared link to the page uses)."""
        return Path(self.path).stem.split("_", 1)[1]

    @property
    def exists(self) -> bool:
        return (ROOT / self.path).is_file()


PAGES: tuple[PageInfo, ...] = (
    PageInfo(
        "explorer",
        "pages/1_Surface_Explorer.py",
        "Surface Explorer",
        "Race up to six optimizers down a classic test function (Rosenbrock, Himmelblau, a ravine, a "
        "saddle...) and inspect every step: gradient, moments, effective learning rate, the update.",
    ),
    PageInfo(
        "learning_rate",
        "pages/2_Learning_Rate.py",
        "Learning rate & decay",
        "Why a learning rate just above 2/λ_max diverges, which rate is optimal, and what each decay "
        "schedule and warmup does to the path.",
    ),
    PageInfo(
        "momentum",
        "pages/3_Momentum.py",
        "Momentum",
        "Heavy ball and Nesterov against plain gradient descent in a ravine, and the (learning rate, "
        "momentum) phase map with its theoretical stability boundary.",
    ),
    PageInfo(
        "regularization",
        "pages/4_Regularization.py",
        "Regularization & weight decay",
        "L1's exact zeros against L2's shrinkage on real data, and Adam + L2 against AdamW's decoupled "
        "weight decay.",
    ),
    PageInfo(
        "batch_size",
        "pages/5_Batch_Size.py",
        "Batch size & noise",
        "How mini-batch gradients scatter around the full gradient, and the noise ball the learning "
        "rate and batch size leave near the minimum.",
    ),
    PageInfo(
        "loss_functions",
        "pages/6_Loss_Functions.py",
        "Loss functions",
        "MSE, MAE, Huber, log-cosh, cross-entropy, hinge and 0-1 loss as curves, formulas and a worked "
        "example you can edit.",
    ),
    PageInfo(
        "models_on_data",
        "pages/7_Models_on_Data.py",
        "Models on data",
        "The exact two-weight landscape of linear and logistic regression on real data or your own CSV, "
        "and how switching the loss reshapes it.",
    ),
    PageInfo(
        "neural_net",
        "pages/8_Neural_Net_Landscape.py",
        "Neural net landscape",
        "A 2-D slice through a small network's weight space, its training path, and its sharpness "
        "against 2/lr.",
    ),
)


def get(page_id: str) -> PageInfo:
    """The catalogue entry of page ``page_id`` (``"explorer"``, ``"momentum"``, ...)."""
    for page in PAGES:
        if page.id == page_id:
            return page
    raise ValueError(f"unknown page {page_id!r}; pages: {', '.join(p.id for p in PAGES)}")

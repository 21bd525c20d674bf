"""The report's look: a colour-blind-safe palette (Okabe and Ito), readable fonts, one figure helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Okabe & Ito (2008), "Color Universal Design": distinguishable under every common colour-vision
# deficiency. Black is last, for the eighth series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
           "#000000")
MARKERS = "osD^v<>p*h"
DPI = 110


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only backend, with the report's defaults."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({
        "axes.prop_cycle": cycler(color=list(PALETTE)),
        "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
        "legend.title_fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
        "svg.hashsalt": "edgesim",  # same inputs, same file
    })
    return plt


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` as PNG (no timestamp in the file: same figure, same bytes) and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


__all__ = ["DPI", "MARKERS", "PALETTE", "colour", "pyplot", "save"]

"""Pieces every page shares: the sidebar (device, seed) and small Streamlit helpers. No maths here."""
from __future__ import annotations

import streamlit as st
import torch

from pathlib import Path

from rnnlab.runtime.device import device_label, pick_device
from rnnlab.nn.models import TextModel, load_text_model

SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "assets" / "sentiment"


@st.cache_resource
def app_device() -> torch.device:
    """The device the app computes on, chosen once per server: CUDA, then MPS, then CPU."""
    return pick_device()


def seed() -> int:
    """The global seed chosen in the sidebar (shared in the URL as ``?seed=``)."""
    return int(st.session_state.get("seed", 0))


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### ⚙️ Session")
        device = app_device()
        icon = "🟢" if device.type != "cpu" else "⚪"
        st.markdown(f"{icon} **Device:** {device_label(device)}")
        if device.type == "cpu":
            st.caption("No GPU found: models train on the CPU. The small models here are fast enough for class.")
        st.number_input("Global seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                        bind="query-params",
                        help="Every random choice (weights, data, training order) follows this seed, "
                             "so the whole class sees the same numbers. It is kept in the page's URL.")


def plot(fig, key: str | None = None) -> None:
    """Draw a Plotly figure at full width."""
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


@st.cache_resource(show_spinner="Loading the pretrained sentiment model…")
def shipped_model() -> TextModel | None:
    """The pretrained IMDB model in assets/, or None if it is not there."""
    if not (SHIPPED_MODEL / "model.pt").exists():
        return None
    return load_text_model(SHIPPED_MODEL, app_device())


def text_models() -> dict[str, TextModel]:
    """Every text model this session can use: the shipped one, then those trained in this session."""
    models = {}
    shipped = shipped_model()
    if shipped is not None:
        acc = shipped.meta.get("test_accuracy")
        models["Pretrained on IMDB" + (f" ({acc:.1%} test accuracy)" if acc else "")] = shipped
    models.update(st.session_state.get("text_models", {}))
    return models

"""Pieces every page shares: the sidebar (device, seed) and small Streamlit helpers. No maths here."""
from __future__ import annotations

import streamlit as st
import torch

from rnnlab.device import device_label, pick_device


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

"""Pick the fastest device there is (CUDA, then Apple MPS, then CPU) and make runs repeatable."""
from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA if available, then MPS, then CPU. ``prefer="cpu"`` (or env ``RNNLAB_DEVICE=cpu``) forces one."""
    prefer = prefer or os.environ.get("RNNLAB_DEVICE") or None
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_label(device: torch.device | None = None) -> str:
    """A human label, e.g. ``"CUDA: NVIDIA H100 80GB HBM3"``, ``"Apple MPS"`` or ``"CPU (2 threads)"``."""
    device = device or pick_device()
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a torch Generator seeded the same way.

    Only for a process that runs one training at a time (a job runner's worker, the command line, a
    benchmark): in the app server the global generators are shared by every session's threads, so the
    server passes explicit generators instead (see ``rnnlab.nn.init.seeded``) and this refuses to run there."""
    server = sys.modules.get("streamlit.runtime")
    if server is not None and getattr(server, "exists", lambda: False)():
        raise RuntimeError("seed_everything would reseed the generators every session shares: pass a "
                           "torch.Generator instead")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)

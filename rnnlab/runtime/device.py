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
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n != 1 else ''})"


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively and fast: a CPU with Intel AMX tiles (Sapphire
    Rapids and later), where oneDNN's bf16 LSTM runs about 2.5x faster than float32 (measured on this
    project's 2-core CPU: a char-LSTM-384 training step 0.18 s -> 0.072 s at one thread). Other CPUs
    emulate bf16 and gain nothing; GPUs keep float32 here (cuDNN is fast enough for every recipe)."""
    device = torch.device(device)
    if device.type != "cpu":
        return False
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(amx and amx())
    except Exception:
        return False


PRECISIONS = ("fp32", "bf16", "auto")


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"fp32"``, ``"bf16"`` or ``"auto"`` -> the precision a training uses: ``auto`` is bf16 where the
    device has native bf16 (:func:`native_bf16`), else fp32. ``RNNLAB_PRECISION=fp32`` forces float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be fp32, bf16 or auto, not {precision!r}")
    if os.environ.get("RNNLAB_PRECISION") == "fp32":
        return "fp32"
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


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

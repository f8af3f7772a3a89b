"""A local Ray instance for the tests (2 CPUs), started once per test session when a test asks for it.

Ray's workers are new processes that do not see pytest's ``sys.path``: the repository and ``tests/`` are
put on their ``PYTHONPATH`` so that ``rnnlab`` and the test job functions (``jobfns``) import there too."""
from __future__ import annotations

import atexit
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_started = False


def why_not() -> str | None:
    """None if Ray can be used here, else why not (the test is skipped)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install -r requirements-cluster.txt)"
    return None


def local_ray() -> None:
    global _started
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")     # a local test instance: no token file in ~/.ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024 * 1024,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
                                       "RNNLAB_DEVICE": "cpu"}})
    if not _started:
        atexit.register(ray.shutdown)
    _started = True

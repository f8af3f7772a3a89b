"""What is particular to the Ray backend (the runner's common behaviour is tested in test_jobs.py, on both
backends): GPU jobs ask Ray for a GPU, the class board records Ray jobs, several jobs run at once, and the
app falls back to local workers when the cluster cannot be used."""
import contextlib
import time

import pytest
import rayfix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_local():
    if rayfix.why_not():
        pytest.skip(rayfix.why_not())
    rayfix.local_ray()


def test_a_gpu_job_asks_ray_for_a_gpu(ray_local):
    import ray

    from rnnlab.runtime.ray_runner import RayRunner

    assert ray.cluster_resources().get("GPU", 0) == 0            # the test's Ray has no GPU ...
    r = RayRunner(workers=1, gpus_per_job=1, start_timeout=3.0, heartbeat_timeout=30)
    try:
        assert r.device == "cuda" and r.device_label == "Ray: GPU"
        job = r.submit("jobfns:count", {"n": 2})
        assert job.wait(30)
        # ... so no node can take a job that asks for one: it fails with a message, it does not wait for ever
        assert job.state == "error" and "No machine of the cluster" in job.error
    finally:
        r.shutdown()


def test_jobs_run_at_once_on_the_cluster_and_the_board_records_them(ray_local, tmp_path):
    from rnnlab.runtime.board import Board
    from rnnlab.runtime.database import dispose
    from rnnlab.runtime.ray_runner import RayRunner

    url = f"sqlite:///{tmp_path / 'ray.sqlite3'}"
    board = Board(url)
    r = RayRunner(workers=2, threads=1, heartbeat_timeout=30, keep_warm=1.0)
    try:
        assert r.gpus_per_job == 0 and r.workers_alive == 2
        r.listeners.append(board.listener(device="server CPU"))
        jobs = [r.submit("jobfns:phases", {"seconds": 0}, seed=k, meta={"lab": "test", "params": {"k": k}})
                for k in range(2)]
        end = time.monotonic() + 60
        while not all(j.of_kind("step") for j in jobs):          # both train at the same time
            assert time.monotonic() < end, "the two jobs did not run at once"
            for j in jobs:
                j.heartbeat()
            time.sleep(0.05)
        for j in jobs:
            j.stop()
        for j in jobs:
            assert j.wait(30) and j.state == "stopped" and j.result["steps"] >= 1
        assert board.flush(10)
        rows = board.rows()
        assert sorted(r_["params"]["k"] for r_ in rows) == [0, 1]
        assert {r_["device"] for r_ in rows} == {"Ray: CPU"}         # where it really ran
        r.set_workers(1)
        assert r.workers_alive == 1 and r.n_workers == 1
    finally:
        r.shutdown()
        dispose(url)


@contextlib.contextmanager
def app_runner(monkeypatch, tmp_path, address: str, ray):
    """The app's job runner made with ``RNNLAB_RAY_ADDRESS=address`` and ``ray()`` standing in for the Ray
    module: (the runner, why Ray was not used); shut down and forgotten afterwards."""
    from app_pages import training
    from rnnlab.runtime import ray_runner

    monkeypatch.setattr(ray_runner, "_ray", ray)
    monkeypatch.setenv("RNNLAB_RAY_ADDRESS", address)
    monkeypatch.delenv("RNNLAB_RAY_ALLOW_PUBLIC", raising=False)
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "1")
    training.reset_runner()
    try:
        r = training.runner()
        yield r, training.RUNNER_NOTE.get("ray", "")
    finally:
        training.reset_runner()
        training.RUNNER_NOTE.clear()


def test_the_app_trains_locally_when_the_cluster_cannot_be_used(monkeypatch, tmp_path):
    from rnnlab.runtime.jobs import LocalRunner

    def no_ray():
        raise RuntimeError("Ray is not installed: pip install -r requirements-cluster.txt")

    with app_runner(monkeypatch, tmp_path, "ray://nowhere.invalid:10001", no_ray) as (r, note):
        assert type(r) is LocalRunner and "not installed" in note


def test_the_app_refuses_a_public_ray_address_and_trains_locally(monkeypatch, tmp_path):
    """A cluster on a public address would run anyone's code: no job is sent there (unless the teacher
    sets RNNLAB_RAY_ALLOW_PUBLIC=1), the app trains on its own server and the Teacher page says why."""
    from types import SimpleNamespace

    from rnnlab.runtime.jobs import LocalRunner

    inits = []
    fake = SimpleNamespace(is_initialized=lambda: False, init=lambda *a, **k: inits.append(a))
    with app_runner(monkeypatch, tmp_path, "ray://203.0.113.7:10001", lambda: fake) as (r, note):
        assert type(r) is LocalRunner and "RNNLAB_RAY_ALLOW_PUBLIC" in note
        assert inits == []                                  # Ray was never started towards that address

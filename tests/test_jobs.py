"""The training job runner: worker processes, events, the queue, stop in every phase, the time limit, the
heartbeat, crashes, and the thread plan. Job functions live in tests/jobfns.py (imported by name in the
workers). The runner's tests run twice: on local worker processes and on a local Ray instance (the Ray
backend, rnnlab.runtime.ray_runner; skipped when Ray is not installed)."""
import threading
import time

import pytest
import rayfix
import torch

from rnnlab.nn.init import seeded
from rnnlab.nn.models import ClassifierConfig, SentimentClassifier
from rnnlab.runtime.jobs import (
    JobContext,
    JobEvent,
    JobLimits,
    JobStopped,
    LocalRunner,
    Status,
    describe_wait,
    pack,
    thread_plan,
    unpack,
)

KINDS = ["local", pytest.param("ray", marks=[pytest.mark.slow, pytest.mark.skipif(rayfix.why_not() is not None,
                                                                                  reason=str(rayfix.why_not()))])]


def make_runner(kind: str, **kwargs):
    """A LocalRunner, or a RayRunner on the test's local Ray instance, with the same arguments."""
    if kind == "local":
        return LocalRunner(**kwargs)
    rayfix.local_ray()
    from rnnlab.runtime.ray_runner import RayRunner

    # idle actors give their CPU back after 5 s: the test's 2-CPU Ray is shared by two runners here
    return RayRunner(keep_warm=5.0, **kwargs)


@pytest.fixture(scope="module", params=KINDS)
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def runner(kind):
    r = make_runner(kind, workers=1, threads=1, heartbeat_timeout=3.0, grace=1.5)
    yield r
    r.shutdown()


def test_a_job_streams_events_and_returns_weights_only(runner):
    job = runner.submit("jobfns:count", {"n": 4}, seed=3, meta={"lab": "test"})
    assert job.wait(60)
    assert job.state == "finished" and job.state is Status.FINISHED and job.end_label == "finished"
    assert [e.step for e in job.of_kind("step")] == [1, 2, 3, 4]
    assert job.of_kind("step")[1].data["loss"] == pytest.approx(0.5)
    assert torch.equal(job.result["weights"], torch.arange(3.0))
    assert job.result["threads"] == 1                       # the worker's torch thread count was set


def test_a_job_function_is_sent_by_its_name(runner):
    """Pages may pass the function itself: only its name crosses to the worker, which imports it."""
    import os

    import jobfns

    job = runner.submit(jobfns.named, seed=1)
    assert job.target == "jobfns:named" and job.task().target == "jobfns:named"
    assert _wait_all([job], 60) and job.state == "finished"
    assert job.result["name"] == "jobfns:named" and job.result["pid"] != os.getpid()   # it ran over there
    with pytest.raises(ValueError, match="top-level function"):
        runner.submit(lambda ctx: {"status": Status.FINISHED})       # a worker could not find it by its name


def test_queue_positions_and_leaving_the_queue(runner):
    first = runner.submit("jobfns:phases", {"seconds": 0.5})
    second = runner.submit("jobfns:count", {"n": 2})
    third = runner.submit("jobfns:count", {"n": 2})
    assert (second.position, third.position) == (1, 2) or (second.position, third.position) == (2, 3)
    assert "in the queue" in describe_wait(third) and third.wait_estimate is not None
    third.stop()                                           # leave the queue
    assert third.state == "stopped" and not third.running
    assert second.position == 1 or second.state != "queued"
    first.stop()
    assert _wait_all([first, second], 30)
    assert second.state == "finished"
    assert third.started is None                           # it never ran


def test_stop_while_loading_data_ends_before_training(runner):
    job = runner.submit("jobfns:phases", {"seconds": 60})
    _wait_for_event(job, "phase")
    t0 = time.monotonic()
    job.stop()
    assert job.wait(20)
    assert job.state == "stopped" and time.monotonic() - t0 < 5
    assert not job.of_kind("step")                         # it never reached training


def test_stop_while_training_keeps_the_result(runner):
    job = runner.submit("jobfns:phases", {"seconds": 0})
    _wait_for_event(job, "step")
    job.stop()
    assert job.wait(20)
    assert job.state == "stopped" and job.result["steps"] >= 1
    assert type(job.result["status"]) is str and job.result["status"] == "stopped"   # a plain string crossed


def test_evaluation_goes_on_after_one_stop_and_ends_at_the_second(runner):
    job = runner.submit("jobfns:evaluating")
    time.sleep(0.5)
    job.stop()
    _wait_for_phase(job, "evaluating")
    time.sleep(0.3)
    assert job.running
    job.stop()
    assert job.wait(20)
    assert job.result["scored"] > 0


def test_the_time_limit_is_the_jobs_total_wall_time(runner):
    job = runner.submit("jobfns:phases", {"seconds": 1.0}, limits=JobLimits(max_seconds=2.0))
    assert job.wait(30)
    assert job.state == "time_limit"
    assert job.elapsed() < 2.0 + 1.0
    # a job that never checks is ended by the runner after its limit plus the grace period
    stubborn = runner.submit("jobfns:stubborn", {"seconds": 60}, limits=JobLimits(max_seconds=1.0))
    assert stubborn.wait(30)
    assert stubborn.state == "time_limit" and stubborn.elapsed() < 1.0 + 1.5 + 2.0


def test_a_stop_that_is_ignored_ends_the_worker_after_the_grace_period(runner):
    job = runner.submit("jobfns:stubborn", {"seconds": 60})
    _wait_running(job)
    job.stop()
    assert job.wait(20)
    assert job.state == "stopped"
    assert runner.submit("jobfns:count", {"n": 1}).wait(60)       # a fresh worker took its place


def test_a_job_whose_page_is_gone_is_cancelled(runner):
    job = runner.submit("jobfns:phases", {"seconds": 0})
    _wait_for_event(job, "step")
    t0 = time.monotonic()
    while job.running and time.monotonic() - t0 < 20:   # no heartbeat from here on
        time.sleep(0.1)
    assert job.state == "stopped" and job.stop_reason == "gone"
    assert 2.0 < time.monotonic() - t0 < 10


def test_a_crash_is_an_error_and_other_jobs_go_on(kind):
    r = make_runner(kind, workers=2, threads=1, heartbeat_timeout=30, grace=1.0)
    try:
        long = r.submit("jobfns:phases", {"seconds": 0})
        _wait_for_event(long, "step")
        crash = r.submit("jobfns:crash")
        fail = r.submit("jobfns:fail")
        assert crash.wait(30) and fail.wait(30)
        assert crash.state == "error" and "crashed" in crash.error
        assert fail.state == "error" and "learning rate" in fail.error
        assert "/srv/secret" not in fail.error                     # no server paths reach the page
        assert long.running                                         # the other job went on
        long.stop()
        assert long.wait(20) and long.state == "stopped"
        assert r.workers_alive == 2                                 # the crashed worker was replaced
    finally:
        r.shutdown()


def test_each_job_gets_its_seed_in_its_own_process(runner):
    a = runner.submit("jobfns:seeded_draw", seed=7)
    b = runner.submit("jobfns:seeded_draw", seed=7)
    c = runner.submit("jobfns:seeded_draw", seed=8)
    assert _wait_all([a, b, c], 30)
    assert torch.equal(a.result["x"], b.result["x"]) and torch.equal(a.result["dropout"], b.result["dropout"])
    assert not torch.equal(a.result["x"], c.result["x"])


def test_results_are_loaded_weights_only():
    blob = pack({"state": {"w": torch.ones(2)}, "n": 3, "name": "x", "hist": [1.0, 2.0]})
    assert unpack(blob)["n"] == 3
    # a Status crosses as its plain string: weights_only loading would refuse the enum's class
    back = unpack(pack({"status": Status.DIVERGED, "runs": [{"status": Status.TIME_LIMIT}]}))
    assert back == {"status": "diverged", "runs": [{"status": "time_limit"}]} and type(back["status"]) is str
    import io
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    buf = io.BytesIO()
    torch.save({"x": Evil()}, buf, pickle_module=pickle)
    with pytest.raises(pickle.UnpicklingError):
        unpack(buf.getvalue())


def test_thread_plan_never_oversubscribes():
    for cores in (1, 2, 3, 4, 8, 16):
        for workers in (1, 2, 4, 8):
            per_worker, server = thread_plan(workers, cores)
            assert per_worker >= 1 and server >= 1
            if workers * 1 <= cores:
                assert workers * per_worker <= cores
    assert thread_plan(1, 2) == (1, 1)


def test_default_workers_follow_the_environment_then_the_cores(monkeypatch):
    from rnnlab.runtime import jobs

    monkeypatch.setenv("RNNLAB_JOB_WORKERS", "3")
    assert jobs.default_workers() == 3
    monkeypatch.delenv("RNNLAB_JOB_WORKERS")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for cores, workers in ((1, 1), (2, 1), (3, 1), (4, 2), (16, 8)):
        monkeypatch.setattr(jobs.limits, "cpu_count", lambda c=cores: c)     # where default_workers reads it
        assert jobs.default_workers() == workers


def test_a_change_of_workers_replans_the_threads_and_never_passes_the_cores(monkeypatch):
    from rnnlab.runtime import jobs

    monkeypatch.setattr(jobs.limits, "cpu_count", lambda: 4)      # where thread_plan and local_workers read it
    monkeypatch.delenv("RNNLAB_JOB_THREADS", raising=False)
    r = LocalRunner(workers=1, heartbeat_timeout=30.0)
    try:
        assert (r.n_workers, r.threads) == (1, 2)             # 4 cores: one worker of 2 threads, 2 for the server
        r.set_workers(3)
        live = [w for w in r._workers if not w.retire]
        assert r.threads == 1 and len(live) == 3 and all(w.threads == 1 for w in live)   # 3 × 1 <= 4
        job = r.submit("jobfns:where")
        assert job.wait(60) and job.state == "finished"
        assert job.result["threads"] == 1
        r.set_workers(100)
        assert r.n_workers == 4                               # never more workers than cores
    finally:
        r.shutdown()


def test_a_worker_given_a_gpu_sees_only_that_gpu():
    r = LocalRunner(workers=1, threads=1, heartbeat_timeout=30.0, devices=["cuda:1"])
    try:
        job = r.submit("jobfns:where")
        assert job.wait(60) and job.state == "finished"
        assert job.result["visible"] == "1" and job.result["device"] == "cuda"
    finally:
        r.shutdown()


def test_the_context_reports_why_to_stop():
    sent = []

    class Flag:
        value = 0

    ctx = JobContext(1, sent.append, Flag(), max_seconds=60)
    assert ctx.should_stop() is None
    Flag.value = 1
    assert ctx.should_stop() is Status.STOPPED
    with pytest.raises(JobStopped) as err:
        ctx.check()
    assert err.value.reason == "stopped"
    late = JobContext(1, sent.append, None, max_seconds=0)
    assert late.should_stop() is Status.TIME_LIMIT
    with pytest.raises(JobStopped) as err:
        late.check()
    assert err.value.reason is Status.TIME_LIMIT
    ctx.emit("step", 3, loss=0.5)
    assert sent[-1].event.data == {"loss": 0.5}


def test_worker_messages_pickle_and_read_by_name_or_as_the_old_tuples():
    """Across a spawn queue and Ray they are pickled; code that still indexes them sees the old tuples."""
    import pickle

    from rnnlab.runtime.jobs.messages import (
        ErrorMessage,
        EventMessage,
        JobTask,
        ReadyMessage,
        ResultMessage,
        StoppedMessage,
    )

    event = EventMessage(4, JobEvent("step", 2, 0, {"loss": 0.5}, 1.0))
    messages = [ReadyMessage(1), event, ResultMessage(4, pack({"n": 1})), StoppedMessage(4, "time_limit"),
                ErrorMessage(4, "bad", "Traceback ...")]
    for msg in messages:
        assert pickle.loads(pickle.dumps(msg)) == msg
    assert event.event.data == {"loss": 0.5} and event.tag == "event" and event.job_id == 4
    assert [m.tag for m in messages] == ["ready", "event", "result", "stopped", "error"]
    with pytest.raises(TypeError):      # read by name, not by position
        event[2]
    task = JobTask(4, "jobfns:count", {"n": 1}, 0, JobLimits())
    assert pickle.loads(pickle.dumps(task)) == task


def test_seeded_builds_are_identical_across_threads_while_others_draw():
    """Issue 9: 8 threads build the same seeded model while other threads use torch's global RNG."""
    cfg = ClassifierConfig(vocab_size=300, embed_dim=16, hidden_sizes=(12,), cell="LSTM", head_hidden=8)
    reference = seeded(lambda: SentimentClassifier(cfg), 5).state_dict()
    stop = threading.Event()
    results, errors = [], []

    def noise():  # a "training" elsewhere in the server drawing from the global generator
        while not stop.is_set():
            torch.rand(100)
            torch.nn.functional.dropout(torch.ones(100), 0.5)

    def build():
        try:
            for _ in range(10):
                results.append(seeded(lambda: SentimentClassifier(cfg), 5).state_dict())
        except Exception as err:
            errors.append(err)

    noisy = [threading.Thread(target=noise) for _ in range(2)]
    builders = [threading.Thread(target=build) for _ in range(8)]
    for t in noisy + builders:
        t.start()
    for t in builders:
        t.join()
    stop.set()
    for t in noisy:
        t.join()
    assert not errors and len(results) == 80
    assert all(all(torch.equal(r[k], reference[k]) for k in reference) for r in results)


# --- helpers --------------------------------------------------------------------------------------------
def _wait_all(jobs, timeout):
    """Wait for every job, sending each one's heartbeat as its page would (a queued job is not left to look
    abandoned while an earlier one runs: a Ray actor takes seconds to start)."""
    end = time.monotonic() + timeout
    while any(j.running for j in jobs):
        if time.monotonic() > end:
            return False
        for j in jobs:
            j.heartbeat()
        time.sleep(0.02)
    return True


def _wait_for_event(job, kind, timeout=30):
    end = time.monotonic() + timeout
    while not job.of_kind(kind):
        assert time.monotonic() < end, f"no {kind} event"
        job.heartbeat()
        time.sleep(0.02)


def _wait_for_phase(job, name, timeout=30):
    end = time.monotonic() + timeout
    while not any(e.data.get("name") == name for e in job.of_kind("phase")):
        assert time.monotonic() < end, f"no phase {name}"
        job.heartbeat()
        time.sleep(0.02)


def _wait_running(job, timeout=30):
    end = time.monotonic() + timeout
    while job.state == "queued":
        assert time.monotonic() < end
        job.heartbeat()
        time.sleep(0.02)
    time.sleep(0.2)

"""Sharing the training workers: the round-robin queue, the cap per session, and forgetting ended jobs
(rnnlab.runtime.fairness), on their own and inside both job runners (local processes and Ray)."""
import re
import time
from types import SimpleNamespace

import pytest
from test_jobs import KINDS, _wait_all, _wait_running, make_runner

from rnnlab.runtime.fairness import FairQueue, Retention, SessionLimit, check_session_cap
from rnnlab.runtime.jobs import describe_wait


def fake(session, ended=None, name=""):
    return SimpleNamespace(session=session, ended=ended, name=name, result={"w": 1}, events=[1], kwargs={"u": 1},
                           details=None)


# --- the queue on its own ---------------------------------------------------------------------------------
def test_the_queue_serves_everyones_first_training_before_anyones_second():
    q = FairQueue()
    a1, a2, a3, b1, c1 = (fake(s, name=n) for s, n in (("a", "a1"), ("a", "a2"), ("a", "a3"), ("b", "b1"),
                                                      ("c", "c1")))
    q.append(a1, 0)                 # one student queues three before the others arrive
    q.append(a2, 1)
    q.append(a3, 2)
    q.append(b1, 0)
    q.append(c1, 0)
    assert [j.name for j in q] == ["a1", "b1", "c1", "a2", "a3"]
    assert len(q) == 5 and q.count("a") == 3 and b1 in q and q.round_of(a3) == 2
    assert q.popleft() is a1 and q.popleft() is b1
    q.remove(c1)
    assert [j.name for j in q] == ["a2", "a3"] and len(q) == 2
    with pytest.raises(ValueError):
        q.remove(c1)
    assert q.popleft() is a2 and q.popleft() is a3
    with pytest.raises(IndexError):
        q.popleft()


def test_a_first_training_is_never_overtaken():
    q = FairQueue()
    b1, a2 = fake("b", name="b1"), fake("a", name="a2")
    q.append(a2, 1)                 # a's second, while a's first runs
    q.append(b1, 0)                 # b's first, later: goes ahead
    later = fake("c", name="c1")
    q.append(later, 0)              # c's first, later still: behind b's first, ahead of a's second
    assert [j.name for j in q] == ["b1", "c1", "a2"]


def test_the_cap_counts_running_and_waiting_and_says_what_to_do():
    check_session_cap(1, 2)
    check_session_cap(5, None)
    with pytest.raises(SessionLimit, match="2 trainings running or waiting.*Wait for one to end"):
        check_session_cap(2, 2)


def test_retention_keeps_the_newest_per_session_and_drops_a_gone_sessions_jobs_after_the_linger():
    keep = Retention(per_session=2, linger=100.0)
    jobs = [fake("a", ended=t) for t in (1.0, 2.0, 3.0)] + [fake("b", ended=5.0), fake("b"), fake("", ended=1.0)]
    alive = {"a": True, "b": True}
    drop = keep.sweep(jobs, alive.get, now=10.0)
    assert drop == [jobs[0]]                               # a's oldest ended job; running jobs are never dropped
    alive["b"] = False
    assert keep.sweep(jobs[1:], alive.get, now=50.0) == []  # b left at 10 s: kept for the linger
    assert keep.sweep(jobs[1:], alive.get, now=111.0) == [jobs[3]]
    assert keep.sweep(jobs, None, now=1e9) == [jobs[0]]    # liveness unknown: only the per-session cap applies


# --- inside the runners -------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=KINDS)
def kind(request):
    return request.param


def test_a_session_over_its_cap_is_refused_and_others_are_not(kind):
    r = make_runner(kind, workers=1, threads=1, heartbeat_timeout=30.0, grace=1.5, per_session=2)
    try:
        a1 = r.submit("jobfns:phases", {"seconds": 30}, session="a")
        a2 = r.submit("jobfns:count", {"n": 2}, session="a")
        with pytest.raises(SessionLimit):
            r.submit("jobfns:count", {"n": 2}, session="a")
        b1 = r.submit("jobfns:count", {"n": 2}, session="b")       # another student is not affected
        a3 = r.submit("jobfns:count", {"n": 2}, session="a", replaces=a2)   # the same lab again: replaces a2
        assert a2.state == "stopped" and a3.queued
        assert len([j for j in r.jobs("a") if j.running]) == 2
        with pytest.raises(SessionLimit):                      # the teacher's number, passed per call, wins
            r.submit("jobfns:count", {"n": 1}, session="b", per_session=1)
        a1.stop()
        assert _wait_all([a1, a3, b1], 90)
    finally:
        r.shutdown()


def test_the_runner_starts_the_next_students_job_before_a_second_one_of_the_first(kind):
    r = make_runner(kind, workers=1, threads=1, heartbeat_timeout=30.0, grace=1.5, per_session=3)
    try:
        a1 = r.submit("jobfns:phases", {"seconds": 30}, session="a")
        _wait_running(a1, 60)
        a2 = r.submit("jobfns:count", {"n": 2}, session="a")
        a3 = r.submit("jobfns:count", {"n": 2}, session="a")
        b1 = r.submit("jobfns:count", {"n": 2}, session="b")      # arrives last
        assert (b1.position, a2.position, a3.position) == (1, 2, 3)
        assert "if no classmate queues a first training" in describe_wait(a2)
        assert "classmate" not in describe_wait(b1)
        a1.stop()
        assert _wait_all([a1, a2, a3, b1], 120)
        assert b1.started < a2.started < a3.started
    finally:
        r.shutdown()


def test_ended_jobs_are_forgotten_and_freed_once_their_session_is_gone(kind):
    alive = {"s": True, "t": True}
    r = make_runner(kind, workers=1, threads=1, heartbeat_timeout=30.0, grace=1.5, per_session=5,
                    retention=Retention(per_session=2, linger=0.5), session_alive=alive.get)
    try:
        done = [r.submit("jobfns:count", {"n": 1}, session="s") for _ in range(3)]
        other = r.submit("jobfns:count", {"n": 1}, session="t")
        assert _wait_all(done + [other], 90)
        r.sweep()
        kept = r.jobs("s")
        assert kept == sorted(done, key=lambda j: j.ended)[1:]     # the newest two
        assert all(j.result is not None for j in kept)            # a live session still sees its results
        alive["s"] = False
        r.sweep()
        time.sleep(0.6)
        assert r.sweep() == 2
        assert r.jobs("s") == [] and all(j.result is None and j.events == [] for j in kept)
        assert r.jobs("t") == [other] and other.result is not None
    finally:
        r.shutdown()


def test_the_wait_shown_is_an_upper_bound_and_a_guess_from_recent_jobs():
    from rnnlab.runtime.jobs import JobLimits, LocalRunner

    r = LocalRunner(workers=1, threads=1, heartbeat_timeout=30.0, grace=1.5)
    try:
        first = r.submit("jobfns:count", {"n": 1}, session="a", limits=JobLimits(max_seconds=20))
        assert _wait_all([first], 60)
        blocker = r.submit("jobfns:phases", {"seconds": 30}, session="a", limits=JobLimits(max_seconds=40))
        _wait_running(blocker, 60)
        queued = r.submit("jobfns:count", {"n": 1}, session="b", limits=JobLimits(max_seconds=20))
        # at most: the blocker's remaining limit + grace + the margin to start the next job
        assert 40 < queued.wait_estimate <= 40 + 1.5 + 10
        assert queued.wait_typical is not None and queued.wait_typical < 5     # recent jobs took well under 5 s
        assert re.fullmatch(r"1st in the queue, about [1-5] s \(at most 5[0-2] s\)", describe_wait(queued))
        blocker.stop()
        assert _wait_all([blocker, queued], 60)
    finally:
        r.shutdown()


def test_a_job_waiting_for_a_worker_that_is_still_starting_is_not_told_starting_now():
    from rnnlab.runtime.fairness import WORKER_START_BOUND
    from rnnlab.runtime.jobs import LocalRunner

    r = LocalRunner(workers=1, threads=1, heartbeat_timeout=30.0, grace=1.5)
    try:
        job = r.submit("jobfns:count", {"n": 1}, session="a")   # the worker is importing torch now
        if job.queued:                                           # (a very fast start could beat this line)
            assert 1 <= job.wait_estimate <= WORKER_START_BOUND and "starting now" not in describe_wait(job)
        assert _wait_all([job], 60) and job.state == "finished"
    finally:
        r.shutdown()

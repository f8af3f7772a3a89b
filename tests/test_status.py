"""The status vocabulary (rnnlab.status): members equal their strings, and one precedence sums up runs."""
import itertools
import pickle

import pytest

from rnnlab.status import ACTIVE, END_LABELS, END_STATES, PRECEDENCE, Status, stop_status, worst_status


def test_members_are_their_strings():
    assert Status.FINISHED == "finished" and Status("time_limit") is Status.TIME_LIMIT
    assert {"finished": 1}[Status.FINISHED] == 1 and END_LABELS["error"] == "failed"   # string keys find them
    assert f"{Status.EARLY_STOPPED}" == "early_stopped" and str(Status.STOPPING) == "stopping"
    assert pickle.loads(pickle.dumps(Status.DIVERGED)) is Status.DIVERGED
    assert set(ACTIVE) | set(END_STATES) == set(Status) and not set(ACTIVE) & set(END_STATES)
    assert set(END_LABELS) == set(END_STATES) == set(PRECEDENCE)


def test_each_pair_has_one_worst():
    order = [Status.ERROR, Status.DIVERGED, Status.STOPPED, Status.TIME_LIMIT, Status.EARLY_STOPPED,
             Status.FINISHED]
    for (i, a), (j, b) in itertools.combinations(enumerate(order), 2):
        expected = order[min(i, j)]
        assert worst_status([a, b]) is expected and worst_status([b, a]) is expected
    assert worst_status([Status.FINISHED] * 3) is Status.FINISHED
    assert worst_status(iter(["finished", "early_stopped", "time_limit"])) is Status.TIME_LIMIT


def test_the_trainers_statuses_are_the_job_states():
    # the trainer says Status now; a result's plain string (as it crosses from a worker) reads the same
    assert worst_status(["finished"]) is Status.FINISHED
    assert worst_status(["stopped"]) is Status.STOPPED
    assert worst_status(["finished", "stopped", "time_limit"]) is Status.STOPPED
    assert worst_status(["stopped", "diverged"]) is Status.DIVERGED
    with pytest.raises(ValueError):
        worst_status(["done"])             # the trainer's old words are gone
    with pytest.raises(ValueError):
        worst_status(["cancelled"])


def test_a_stop_callbacks_answer():
    assert stop_status(None) is None and stop_status(False) is None and stop_status("") is None
    assert stop_status(Status.STOPPED) is Status.STOPPED and stop_status(Status.TIME_LIMIT) is Status.TIME_LIMIT
    assert stop_status("time_limit") is Status.TIME_LIMIT
    assert stop_status("cancelled") is Status.STOPPED and stop_status(True) is Status.STOPPED   # the user


def test_no_runs_is_finished_and_other_words_are_refused():
    assert worst_status([]) is Status.FINISHED
    with pytest.raises(ValueError):
        worst_status(["running"])          # not an end
    with pytest.raises(ValueError):
        worst_status(["finished", "exploded"])

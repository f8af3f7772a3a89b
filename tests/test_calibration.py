"""Temperature scaling, reliability bins and ECE: against hand-computed values and known temperatures."""
import json

import numpy as np
import pytest
import torch
from fixtures import csv_bytes

from rnnlab.data.text import read_csv
from rnnlab.labs.calibration import (
    calibration_report,
    ece,
    ece_change_points,
    fit_temperature,
    nll,
    reliability,
    reliability_from_report,
    sigmoid,
)


def _sample(scale: float, n: int = 20_000, seed: int = 0):
    """Labels drawn from sigmoid(z); a model that reports ``scale * z`` (over-confident if scale > 1)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, n)
    y = (rng.random(n) < sigmoid(z)).astype(np.int64)
    return scale * z, y


@pytest.mark.parametrize("scale", [4.0, 0.5])
def test_temperature_recovers_the_distortion(scale):
    logits, y = _sample(scale)
    T = fit_temperature(logits, y)
    assert pytest.approx(scale, rel=0.06) == T                  # dividing by T undoes the scaling
    assert nll(logits, y, T) < nll(logits, y, 1.0)
    assert ece(sigmoid(logits / T), y) < 0.02 < ece(sigmoid(logits), y)
    assert np.array_equal(sigmoid(logits / T) > 0.5, sigmoid(logits) > 0.5)   # never changes a label


def test_reliability_bins_by_hand():
    p = np.array([0.55, 0.45, 0.95, 0.05, 0.97, 0.6])
    y = np.array([1, 1, 1, 0, 0, 0])
    r = reliability(p, y, bins=5)                              # bins (0.5, 0.6], (0.6, 0.7], ... (0.9, 1.0]
    assert r.counts.tolist() == [3, 0, 0, 0, 3]
    assert r.confidence[0] == pytest.approx((0.55 + 0.55 + 0.6) / 3) and r.accuracy[0] == pytest.approx(1 / 3)
    assert r.accuracy[4] == pytest.approx(2 / 3) and r.confidence[4] == pytest.approx((0.95 + 0.95 + 0.97) / 3)
    assert np.isnan(r.accuracy[1])                             # an empty bin has no accuracy
    expected = (3 * abs(1 / 3 - 1.7 / 3) + 3 * abs(2 / 3 - 2.87 / 3)) / 6
    assert r.ece == pytest.approx(expected, abs=1e-9)


def test_the_report_a_model_stores_round_trips():
    logits, y = _sample(3.0, n=2000)
    T = fit_temperature(logits, y)
    rep = calibration_report(logits, y, T, split="test")
    json.dumps(rep, allow_nan=False)                            # plain JSON: it goes into config.json
    assert rep["n"] == 2000 and rep["ece_after"] < rep["ece_before"]
    for which in ("before", "after"):
        r = reliability_from_report(rep, which)
        direct = reliability(sigmoid(logits / (T if which == "after" else 1.0)), y)
        assert r.counts.tolist() == direct.counts.tolist()
        np.testing.assert_allclose(np.nan_to_num(r.accuracy), np.nan_to_num(direct.accuracy), atol=1e-6)
        assert r.ece == pytest.approx(direct.ece)


def test_on_a_trained_model_temperature_lowers_validation_nll_and_keeps_every_label():
    from rnnlab.labs.sentiment import encode, logits_of, recipe_from, train_sentiment

    ds = read_csv(csv_bytes(800, seed=3))
    train, held_out = ds.split(0.3, seed=0)
    run = train_sentiment(recipe_from("fast", epochs=2, batch_size=32, hidden_sizes=(16,), embed_dim=16, num_words=300),
                          train, None, seed=0, device="cpu")
    tm = run.text_model
    ids, lengths = encode(held_out.texts, tm.vocab, tm.maxlen)
    z = logits_of(tm.model, ids, lengths)
    T = fit_temperature(z, held_out.labels)
    assert pytest.approx(1.0, abs=0.05) != T                   # this model is not calibrated as trained
    assert nll(z, held_out.labels, T) < nll(z, held_out.labels, 1.0)
    assert np.array_equal(z / T > 0, z > 0)
    # the model's own temperature was fitted on its validation split the same way
    assert 0.05 <= tm.meta["temperature"] <= 20 and torch.isfinite(torch.tensor(tm.meta["temperature"]))


def test_the_ece_change_is_in_points_after_minus_before():
    z, y = _sample(4.0, n=4_000)
    report = calibration_report(z, y, fit_temperature(z, y))
    before, after = ece(sigmoid(z), y), ece(sigmoid(z / report["temperature"]), y)
    assert ece_change_points(report) == pytest.approx(100 * after - 100 * before)
    assert ece_change_points(report) < 0                          # over-confident model: calibration helps
    assert ece_change_points({"ece_before": 0.125, "ece_after": 0.05}) == pytest.approx(-7.5)

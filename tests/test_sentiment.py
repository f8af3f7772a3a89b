"""Sentiment recipes, encoding, training on made-up reviews, explanations, the CLI, the shipped model."""
import json

import pytest
import torch

from fixtures import csv_bytes, make_aclimdb
from rnnlab.__main__ import main as cli
from rnnlab.data.text import load_imdb, read_csv
from rnnlab.nn.models import SentimentClassifier, load_text_model, text_model_zip
from rnnlab.labs.sentiment import (PRESETS, batches, encode, occlusion, predict, recipe_from, train_sentiment, trajectory)
from rnnlab.data.tokenizer import Vocabulary


def test_presets_follow_the_guide():
    k = PRESETS["guide_keras"]
    assert (k.num_words, k.maxlen, k.embed_dim, k.hidden_sizes, k.bidirectional, k.head_hidden, k.head_dropout) == \
        (10_000, 200, 64, (64, 32), True, 64, 0.5)
    p = PRESETS["guide_pytorch"]
    assert (p.embed_dim, p.hidden_sizes, p.bidirectional, p.dropout, p.lr, p.clip) == (128, (256, 256), True, 0.3, 1e-3, 1.0)
    model = SentimentClassifier(k.classifier_config(10_000))
    assert [r.hidden_size for r in model.rnns] == [64, 32] and model.rnns[1].input_size == 128
    # Keras' Bidirectional(LSTM(64)) -> Bidirectional(LSTM(32)) -> Dense(64) -> Dropout(0.5) -> Dense(1)
    assert isinstance(model.head[0], torch.nn.Linear) and model.head[0].in_features == 64
    assert isinstance(model.head[2], torch.nn.Dropout) and model.head[2].p == 0.5


def test_encode_and_bucketed_batches():
    v = Vocabulary().fit(["a b c d e"])
    ids, lengths = encode(["a b c d e", "c", ""], v, maxlen=3)
    assert lengths.tolist() == [3, 1, 1]
    assert ids.tolist() == [[v.index["c"], v.index["d"], v.index["e"]], [v.index["c"], 0, 0], [1, 0, 0]]
    ids, lengths = encode(["a b c d e"], v, maxlen=3, truncating="post")
    assert ids.tolist() == [[v.index["a"], v.index["b"], v.index["c"]]]
    N = 1000
    lengths = torch.randint(1, 50, (N,))
    ids = torch.zeros(N, 50, dtype=torch.long)
    labels = torch.arange(N)
    bs = batches(ids, lengths, labels, 32, seed=0)
    seen = torch.cat([b[2] for b in bs])
    assert sorted(seen.tolist()) == list(range(N))                     # every example exactly once
    assert all(b[0].shape[1] == int(b[1].max()) for b in bs)            # each batch cut to its longest
    pad_bucketed = sum(b[0].numel() for b in bs)
    assert pad_bucketed < 0.8 * N * 50


@pytest.fixture(scope="module")
def small_run():
    ds = read_csv(csv_bytes(600))
    train, test = ds.split(0.25, seed=0)
    recipe = recipe_from("fast", epochs=3, batch_size=32, hidden_sizes=(16,), embed_dim=16, num_words=500)
    return train_sentiment(recipe, train, test, seed=0, device="cpu")


def test_training_learns_made_up_reviews(small_run):
    run = small_run
    assert run.history.status in ("done", "early_stopped")
    assert run.test["acc"] > 0.9
    assert run.test["confusion"].sum() == 150
    assert run.text_model.meta["test_accuracy"] == pytest.approx(run.test["acc"], abs=1e-4)
    assert predict(run.text_model, "wonderful brilliant superb film") > 0.5 > predict(run.text_model, "awful dull waste")


def test_trajectory_and_occlusion_agree_with_the_model(small_run):
    tm = small_run.text_model
    text = "The plot was dull but the acting was wonderful and superb"
    tokens, probs = trajectory(tm, text)
    assert len(tokens) == len(probs) == 11
    assert probs[-1] == pytest.approx(predict(tm, text), abs=1e-5)
    assert probs[3] == pytest.approx(predict(tm, "the plot was dull"), abs=1e-5)
    tokens, imp, full = occlusion(tm, text)
    k = tokens.index("dull")
    assert imp[k] == pytest.approx(full - predict(tm, text.replace("dull ", "")), abs=1e-5)
    assert imp[tokens.index("superb")] > 0 > imp[k]
    with pytest.raises(ValueError, match="no word"):
        predict(tm, "  <br />  ")


def test_divergent_hyperparameters_stop_cleanly():
    ds = read_csv(csv_bytes(200))
    run = train_sentiment(recipe_from("fast", lr=1e6, clip=None, epochs=2, hidden_sizes=(8,), embed_dim=8,
                                      early_stopping=None), ds, None, device="cpu")
    assert run.history.status in ("diverged", "done")
    assert all(torch.isfinite(p).all() for p in run.text_model.model.parameters())


def test_save_load_zip(small_run, tmp_path):
    import io
    import zipfile

    data = text_model_zip(small_run.text_model)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(names) == ["config.json", "model.pt", "vocab.json"]


def test_cli_trains_on_an_aclimdb_folder(tmp_path, capsys):
    make_aclimdb(tmp_path / "imdb", per_class=40)
    out = tmp_path / "model"
    code = cli(["train-sentiment", "--data", str(tmp_path / "imdb"), "--preset", "fast", "--epochs", "2",
                "--out", str(out), "--device", "cpu"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "saved to" in printed
    tm = load_text_model(out)
    assert tm.meta["test_examples"] == 80 and json.loads((out / "config.json").read_text())["maxlen"] == 200


def test_cli_offline_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    assert cli(["train-sentiment", "--out", str(tmp_path / "m")]) == 2
    assert "aclImdb_v1.tar.gz" in capsys.readouterr().err


def test_shipped_model_accuracy_on_the_full_imdb_test_split(root, shared_data):
    folder = root / "assets" / "sentiment"
    if not (folder / "model.pt").exists():
        pytest.skip("no shipped model in assets/sentiment")
    size_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    assert size_mb <= 20
    tm = load_text_model(folder)
    test = load_imdb(shared_data / "imdb")["test"]
    assert len(test) == 25_000
    from rnnlab.labs.sentiment import evaluate
    ids, lengths = encode(test.texts, tm.vocab, tm.maxlen, tm.meta["recipe"]["truncating"])
    acc = evaluate(tm.model, ids, lengths, torch.from_numpy(test.labels))["acc"]
    assert acc >= 0.89, f"shipped model scores {acc:.4f} on the IMDB test split"

"""Inside the memory with a 2,000-token review and the pretrained model (a BiLSTM): time and memory.

    python -m bench.memory_page              # the whole page, every tab, 2,000 tokens
    python -m bench.memory_page --tokens 1000

Issue 9's target: the whole page renders in < 3 s with < 500 MB of extra memory on a 2-core CPU. The page
runs through Streamlit's AppTest in this process (the server's work, without a browser; bench/interactions.py
times the same paste in a real browser). Extra memory = the process's peak resident memory during the run
minus its resident memory before it (the peak is reset first, through /proc/self/clear_refs).

The baseline, measured in the same run: the old way of getting P(positive) after every token from a
bidirectional model, a batch of every prefix (T x T tokens), on a shorter text (``--baseline-tokens``); it
took 52 s and 15 GB at 2,000 tokens, too much to run here.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TABS = ["Heatmaps", "Colour the text", "Gate saturation", "Trajectory", "Find units"]


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def review(vocab, tokens: int, seed: int = 0) -> str:
    """A text of ``tokens`` ordinary words from the model's vocabulary (seeded), with punctuation."""
    import numpy as np

    words = [w for w, _ in sorted(vocab.index.items(), key=lambda kv: kv[1]) if w.isalpha()][:5000]
    rng = np.random.default_rng(seed)
    out = []
    for k in range(tokens):
        out.append(words[int(rng.zipf(1.3)) % len(words)])
        if k % 17 == 16:
            out.append(".")
    return " ".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--baseline-tokens", type=int, default=300)
    args = ap.parse_args(argv)
    import torch
    from streamlit.testing.v1 import AppTest

    from rnnlab.data.tokenizer import tokenize
    from rnnlab.labs.memory import read_text
    from rnnlab.nn.models import load_text_model
    from rnnlab.runtime.jobs import default_workers, thread_plan

    if not (ROOT / "assets" / "sentiment" / "model.pt").exists():
        print("no pretrained model in assets/sentiment")
        return 1
    torch.set_num_threads(thread_plan(default_workers())[1])      # what the app's server uses
    tm = load_text_model(ROOT / "assets" / "sentiment")
    text = review(tm.vocab, args.tokens)
    n_tokens = len(tokenize(text))

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    at.switch_page("app_pages/memory.py").run()                  # warm: model loaded, default review read
    assert not at.exception, [e.value for e in at.exception]
    before, _ = rss_mb()
    peak_reset = reset_peak()
    t0 = time.perf_counter()
    at.text_area(key="mem_text").set_value(text).run()
    first = time.perf_counter() - t0
    assert not at.exception, [e.value for e in at.exception]
    tab_times = {}
    for tab in TABS:
        at.session_state["mem_tab"] = tab
        t = time.perf_counter()
        at.run()
        tab_times[tab] = time.perf_counter() - t
        assert not at.exception, [e.value for e in at.exception]
    _, peak = rss_mb()
    metrics = {m.label: m.value for m in at.metric}

    # the baseline: every prefix re-read at once (the old T x T batch), on a shorter text
    short = review(tm.vocab, args.baseline_tokens, seed=1)
    ids = torch.tensor([tm.vocab.ids(tokenize(short))])
    T = ids.shape[1]
    t = time.perf_counter()
    with torch.no_grad():
        batch = ids.expand(T, T).clone()
        lengths = torch.arange(1, T + 1)
        batch[torch.arange(T)[None, :] >= lengths[:, None]] = 0
        torch.sigmoid(tm.model(batch, lengths))
    old = time.perf_counter() - t
    t = time.perf_counter()
    read_text(tm.model, tm.vocab, short)
    new = time.perf_counter() - t

    load = os.getloadavg()
    print(f"Inside the memory, pretrained {tm.model.config.cell} (bidirectional={tm.model.config.bidirectional}), "
          f"a {n_tokens:,}-token review ({metrics.get('Tokens read')} read); torch threads {torch.get_num_threads()}; "
          f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  paste the review, whole page (read + first tab): {first:6.2f} s   target < 3 s   "
          f"{'ok' if first < 3 else 'OVER'}")
    for tab, s in tab_times.items():
        print(f"  open '{tab}' (cached read):{'':<{22 - len(tab)}} {s:6.2f} s")
    extra = peak - before
    print(f"  extra memory: peak {peak:,.0f} MB - {before:,.0f} MB before = {extra:,.0f} MB   target < 500 MB   "
          f"{'ok' if extra < 500 else 'OVER'}" + ("" if peak_reset else "  (peak not reset: an upper bound)"))
    print(f"  baseline at {T} tokens: every prefix re-read in one batch {old:.2f} s; this page's read "
          f"(trace + at most 64 prefixes) {new:.2f} s: x{old / max(new, 1e-9):.1f}")
    return 0 if first < 3 and extra < 500 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Batches of sequences' script: padding and masking, packing, what packing costs (the tab's timing job), or the
pretrained model's word vectors."""
from __future__ import annotations

from ..batching import COST_CONFIGS, DEFAULT_SENTENCES, LENGTHS
from ..embeddings import DEFAULT_AMONG, DEFAULT_NEIGHBOURS, DEFAULT_WORD
from .template import Const, Settings, render

TITLE = "Batches of sequences"
DEFAULT_WORDS = ("good great excellent wonderful brilliant superb bad awful terrible boring worst waste "
                 "movie film actor plot ending funny dull")
DEFAULTS = {"bat_tab": "Padding and masking", "bat_text": DEFAULT_SENTENCES, "bat_pad": "post",
            "bat_cost_cfg": next(iter(COST_CONFIGS)), "bat_cost_len": next(iter(LENGTHS)), "bat_word": DEFAULT_WORD,
            "bat_k": DEFAULT_NEIGHBOURS, "bat_among": DEFAULT_AMONG, "bat_words": DEFAULT_WORDS}

BATCH = '''
tm = load_shipped()             # the pretrained sentiment model (a bidirectional LSTM)
batch = make_batch(SENTENCES, tm.vocab)          # one sentence a line, padded at the end to the longest
print(f"The padded tensor: {batch.size} × {batch.width} token ids ({batch.padding_share:.0%} of it padding)")
'''

PADDING = BATCH + '''
model = calibrated(tm)          # with its temperature: P(pos) as the Sentiment lab gives it
cmp = compare_masking(model, batch, PADDING)     # each sentence alone, in the batch with lengths=, and unmasked
for b in range(batch.size):
    print(f"  row {b}: {batch.sentences[b][:80]!r}: P(pos) alone {cmp.prob_alone[b]:.4f}, "
          f"with lengths= {cmp.prob_masked[b]:.4f}, unmasked {cmp.prob_unmasked[b]:.4f}")
print(f"With lengths=: max |state − alone|: {cmp.largest_gap('masked'):.1e}")
print(f"Unmasked: max |final state − alone|: {cmp.largest_gap('unmasked'):.3f}")
print(f"Unmasked: largest change of P(pos): {cmp.largest_prob_change() * 100:.2f} points")

rows = [f"row {b}" for b in range(batch.size)]
fig = go.Figure([go.Bar(x=rows, y=cmp.prob_alone, name="alone"),
                 go.Bar(x=rows, y=cmp.prob_masked, name="in the batch, lengths="),
                 go.Bar(x=rows, y=cmp.prob_unmasked, name="in the batch, unmasked")])
fig.update_layout(title="P(positive) of each sentence, read three ways", barmode="group", template="plotly_white")
show(fig, html)
'''

PACKING = BATCH + '''
lay = packed_layout(batch.lengths)      # what pack_padded_sequence stores, time step by time step
print(f"lengths = {lay.lengths}")
print(f"packed.batch_sizes = {lay.batch_sizes}")             # rows still running at each step
print(f"packed.sorted_indices = {lay.sorted_indices}")       # longest row first
print(f"packed.data.shape[0] = {lay.packed_steps} = sum of the lengths, not "
      f"{batch.size} × {batch.width} = {batch.size * batch.width}")

fig = go.Figure(go.Bar(x=list(range(1, len(lay.batch_sizes) + 1)), y=lay.batch_sizes))
fig.update_layout(title="Rows the layer computes at each time step, packed", xaxis_title="time step",
                  yaxis_title="batch size", template="plotly_white")
show(fig, html)
'''

COST = '''
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: None, None, max_seconds=MAX_SECONDS)    # the job's events go nowhere
result = padding_cost_job(context, CONFIGURATION, LENGTHS, SEED)     # padded and packed steps, alternating
med = result["median"]
print(f"Padded, per step: {med['padded']:.3g} s")
print(f"Packed, per step: {med['packed']:.3g} s")
print(f"Packed ÷ padded: {result['ratio']:.2f}×")
print(f"(The course measured {QUOTED['padded']} s padded and {QUOTED['packed']} s packed on a 2-core CPU)")

fig = cost_figure(result["times"], med, QUOTED)
show(fig, html)
'''

EMBEDDINGS = '''
tm = load_shipped()             # the pretrained sentiment model: its embedding table, one row per word
model = calibrated(tm)
unit = unit_rows(embedding_table(tm.model, tm.vocab))          # each row of length 1: cosine = dot product
neighbours = nearest_neighbours(unit, tm.vocab, WORD, NEIGHBOURS, AMONG)
ids = [word_id(tm.vocab, WORD, unit.shape[0])] + [tm.vocab.index[n.word] for n in neighbours]
probs = word_sentiment(model, ids)               # each word read alone, as a one-word review
print(f"{WORD.strip().lower()} alone: P(positive) = {pct(probs[0])}. Its {NEIGHBOURS} nearest neighbours among "
      f"the {AMONG:,} most frequent words:")
for n, p in zip(neighbours, probs[1:]):
    print(f"  {n.word}: cosine {n.cosine:.3f}, P(pos) alone {pct(p)}, frequency rank {n.rank_in_vocab}")
print(f"Mean cosine of these neighbours: {mean_cosine(neighbours):.2f}. A random direction's {NEIGHBOURS} nearest "
      f"neighbours among the same words: {chance_cosine(unit, NEIGHBOURS, AMONG, SEED):.2f} on average.")

chosen = choose_words(WORDS, tm.vocab, unit.shape[0])          # the words of the map the model knows
coords, explained = project_2d(unit[chosen.ids])
fig = word_map(coords, chosen.words, word_sentiment(model, chosen.ids), explained)
show(fig, html)
'''

BATCH_IMPORTS = ["from rnnlab.labs.batching import make_batch",
                 "from rnnlab.labs.sentiment.reading import load_shipped"]


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    return {"Padding and masking": "masking", "Packing": "packing", "What it costs": f"cost_{s['bat_cost_cfg']}",
            "Embeddings": "embeddings"}.get(s["bat_tab"], "masking")


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["bat_tab"]
    seed_const = Const("SEED", seed, "the sidebar's seed")
    if tab == "What it costs":
        config = s["bat_cost_cfg"] if s["bat_cost_cfg"] in COST_CONFIGS else next(iter(COST_CONFIGS))
        consts = [Const("CONFIGURATION", config, COST_CONFIGS[config]["label"]),
                  Const("LENGTHS", s["bat_cost_len"], "Sentence lengths: mixed or equal"),
                  seed_const, Const("MAX_SECONDS", 600.0, "stop after this long")]
        return render(
            title="Batches of sequences, What it costs: training steps timed padded and packed.",
            about="The tab's timing job, run here: training steps (forward, backward, Adam) of a bidirectional LSTM "
                  "on one random batch, padded and packed in turn. The seconds depend on this machine and on what "
                  "else runs on it; compare the ratio.",
            page_title=TITLE, file_name=file_name,
            imports=["import torch", "from rnnlab.figures.batching import cost_figure",
                     "from rnnlab.labs.batching import QUOTED, padding_cost_job",
                     "from rnnlab.runtime.device import seed_everything", "from rnnlab.runtime.jobs import JobContext"],
            consts=consts, body=COST)
    if tab == "Embeddings":
        consts = [Const("WORD", str(s["bat_word"]), "A word"), Const("NEIGHBOURS", s.num("bat_k", int), "Neighbours"),
                  Const("AMONG", s.num("bat_among", int), "Among the most frequent (words)"),
                  Const("WORDS", str(s["bat_words"]), "Words to place on the map"), seed_const]
        return render(
            title="Batches of sequences, Embeddings: the word vectors a trained model reads.",
            about="The pretrained sentiment model's embedding table: a word's nearest neighbours by cosine "
                  "similarity, against what a random direction finds, and chosen words on their two main "
                  "directions, coloured by the model's P(positive) for each word read alone.",
            page_title=TITLE, file_name=file_name,
            imports=["from rnnlab.figures.batching import word_map", "from rnnlab.labs.calibration import pct",
                     "from rnnlab.labs.embeddings import chance_cosine, choose_words, embedding_table, mean_cosine, "
                     "nearest_neighbours, project_2d, unit_rows, word_id, word_sentiment",
                     "from rnnlab.labs.sentiment import calibrated",
                     "from rnnlab.labs.sentiment.reading import load_shipped"],
            consts=consts, body=EMBEDDINGS)
    packing = tab == "Packing"
    consts = [Const("SENTENCES", str(s["bat_text"]), "Sentences, one per line")]
    if not packing:
        consts.append(Const("PADDING", s["bat_pad"], "Pads go: post (at the end) or pre (at the start)"))
    consts.append(Const("SEED", seed, "the sidebar's seed (the pretrained model reads without chance)"))
    return render(
        title="Batches of sequences, " + ("Packing: the batch as pack_padded_sequence stores it." if packing
                                          else "Padding and masking: what the pads do to a model's answer."),
        about="Sentences of different lengths become one padded tensor; the pretrained sentiment model reads it "
              + ("packed, time step by time step, never a pad." if packing else
                 "with lengths= (masked) and without, against each sentence read alone."),
        page_title=TITLE, file_name=file_name,
        imports=["import plotly.graph_objects as go", *BATCH_IMPORTS,
                 *(["from rnnlab.labs.batching import packed_layout"] if packing else
                   ["from rnnlab.labs.batching import compare_masking",
                    "from rnnlab.labs.sentiment import calibrated"])],
        consts=consts, body=PACKING if packing else PADDING)

"""The Text generation page's script: the pretrained model writing from the prompt (Generate), a character model
trained live (Train live), or the unit finder and one unit along a held-out passage (Inside the model)."""
from __future__ import annotations

from ..textgen import DEFAULT_LENGTH, DEFAULT_PROMPT, DEFAULT_TEMPERATURE, PRESETS
from .template import Const, Settings, render

TITLE = "Text generation"
LIVE = PRESETS["live"]
SHIPPED_LABEL = "Pretrained LSTM (Shakespeare)"      # how the page's Model boxes name the shipped model
DEFAULTS = {"tg_tab": "Generate", "tg_prompt": DEFAULT_PROMPT, "tg_temp": DEFAULT_TEMPERATURE, "tg_topk": 0,
            "tg_len": DEFAULT_LENGTH, "tg_draw": 0, "tg_model": SHIPPED_LABEL, "tg_imodel": SHIPPED_LABEL,
            "tg_data": "tiny-shakespeare", "tg_cell": LIVE.cell, "tg_hidden": LIVE.hidden_size,
            "tg_layers": LIVE.num_layers, "tg_seq": LIVE.seq_len, "tg_bptt": 128, "tg_lr": LIVE.lr, "tg_secs": 180,
            "tg_carry": True, "tg_feature": None, "tg_rank": 0, "tg_passage": 1,
            "tg_conn_source": "Held-out passage", "tg_conn_piece": 1, "tg_conn_t": 170, "tg_conn_method": "gradient",
            "tg_conn_shown": 60}
OWN_MODEL = ("The page was using a model trained in its session, which a script cannot reach: this one uses the "
             "pretrained model. (The Train live tab's script trains one; `python -m rnnlab train-charlm` too.)")

GENERATE = '''
model, vocab, meta = shipped_model()    # the pretrained 2-layer LSTM of assets/textgen
print(f"The model: validation loss {meta['val_loss']:.3f} nats per character on held-out tiny-shakespeare")

# Read the prompt, then sample one character at a time and feed it back in (the same seed writes the same text)
steps = [dataclasses.asdict(s) for s in generate(model, vocab, PROMPT, LENGTH, TEMPERATURE, TOP_K or None,
                                                 seed=SEED * 1000 + DRAW)]
print(PROMPT + "".join(s["char"] for s in steps))
print(f"Mean surprise of this text under the model: {mean_surprise(steps):.2f} nats per character")

# Each generated character's probability under the model: low bars are the surprises
fig = go.Figure(go.Bar(x=list(range(1, len(steps) + 1)), y=[s["p"] for s in steps],
                       hovertext=[repr(s["char"]) for s in steps], name="p(character)"))
fig.update_layout(title="How likely the model found each character it wrote", xaxis_title="character",
                  yaxis_title="probability", template="plotly_white")
show(fig, html)
'''

TRAIN = '''
recipe = dataclasses.replace(PRESETS["live"], cell=CELL, hidden_size=HIDDEN, num_layers=LAYERS, seq_len=SEQ_LEN,
                             bptt=min(BPTT, SEQ_LEN), lr=LR, seconds=float(SECONDS), carry_state=CARRY)
text = None if TEXT_FILE is None else Path(TEXT_FILE).read_text(encoding="utf-8")     # None: tiny-shakespeare
events = []                     # what the page's live panel draws: every step, validation and sample
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: events.append(message.event), None, max_seconds=SECONDS + EVAL_RESERVE)
result = textgen_job(context, recipe.to_dict(), text, SEED)

metrics = result["metrics"]
print(result["message"])
if "val_loss" in metrics:
    print(f"Validation loss: {metrics['val_loss']:.3f}")             # nats per character, on the held-out end
print(f"Training steps: {metrics['steps']:,}")
print(f"Passes over the text: {metrics['passes']:.2f}")
samples = [e for e in events if e.kind == "sample"]
if samples:
    print(f"Sample at step {samples[-1].step:,}:")
    print(samples[-1].data["text"])

steps = [e for e in events if e.kind == "step"]
evals = [{"step": e.step, "loss": e.data["loss"]} for e in events if e.kind == "eval"]
fig = loss_curves([e.step for e in steps], [e.data["loss"] for e in steps], evals,
                  chance=math.log(result["config"]["vocab_size"]), samples=[e.step for e in samples])
show(fig, html)
'''

INSIDE = '''
model, vocab, meta = shipped_model()    # the pretrained 2-layer LSTM of assets/textgen
val_text = shakespeare().val_text       # the held-out end of tiny-shakespeare
report = shipped_units()                # the unit finder's result, saved beside the model when it was made
if report is None or report.get("digest") != model_digest(model):
    report = unit_report(model, vocab, val_text[:UNIT_CHARS])
print(f"The unit finder: each unit against each feature over {report['chars']:,} held-out characters")
for r in report["rows"]:
    print(f"  {r['feature']}: {signal_label(r['signal'])} #{r['unit']}, r = {r['r']:.3f}")

feature = FEATURE or report["rows"][0]["feature"]
options = [r for r in report["rows"] if r["feature"] == feature]
row = options[min(RANK, len(options) - 1)]
start, passage = passages(val_text)[PASSAGE - 1]
ids = vocab.encode(passage, unknown="map" if vocab.unknown_id is not None else "drop")
text = vocab.decode(ids)
values = activations(model, ids)[row["signal"]][:, row["unit"]].numpy()      # read from a zero state
feat = feature_values(text)[feature]
r_here = float(correlations(values[:, None], feat)[0]) if feat.std() > 0 else None
label = f"{signal_label(row['signal'])} #{row['unit']}"
print(f"{label} along passage {PASSAGE}: " + (f"r = {r_here:+.2f}" if r_here is not None else
                                              "the feature does not vary in this passage"))

fig = unit_vs_feature(values, feat, label, feature, r_here)
show(fig, html)
'''


CONNECTIVITY = '''
# The passage: a piece of the held-out end of tiny-shakespeare, or the text the Generate tab wrote
if SAMPLE is None:
    passage = passages(shakespeare().val_text, length=MAX_PASSAGE)[PIECE - 1][1]
else:
    model, vocab, _ = shipped_model()
    passage = SAMPLE["prompt"] + "".join(s.char for s in generate(model, vocab, SAMPLE["prompt"], SAMPLE["length"],
                                                                  SAMPLE["temperature"], SAMPLE["top_k"] or None,
                                                                  seed=SEED * 1000 + SAMPLE["draw"]))
models = {cell: shipped_cell(cell) for cell in ("LSTM", "GRU", "RNN")}     # the same recipe, three cells
for cell, found in models.items():
    if found is None:
        print(f"The {NAMES[cell]} is not in assets/textgen/ yet: left out.")
present = {cell: found for cell, found in models.items() if found is not None}
passage = known_text(passage, [vocab for _, vocab, _ in present.values()])
t = min(T, len(passage) - 2)

# How strongly each character read before position t drove the prediction of the next one, for each cell
panels = []
for cell, (model, vocab, meta) in present.items():
    conn = char_connectivity(model, vocab, vocab.encode(passage), t, BACK, METHOD)
    near = min(NEAR, conn.back + 1)     # the share of the influence on the last few characters
    print(f"{NAMES[cell]}: p = {conn.p_target:.1%}, {conn.share_within(near - 1):.0%} of the bars' total on the "
          f"last {near} characters (predicting {conn.target!r}; validation loss {meta.get('val_loss', 0):.3f})")
    panels.append({"label": NAMES[cell], "cell": cell, "conn": conn})

# Karpathy's view: the first model's five likeliest guesses at each position of the passage
cell = next(iter(present))
model, vocab, _ = present[cell]
top = top_guesses(model, vocab, vocab.encode(passage))
print(f"The {NAMES[cell]}'s first guess is right at {top.hit_rate(1):.0%} of the positions and the right character "
      f"is among the five at {top.hit_rate(5):.0%}; mean surprise {top.surprise:.2f} nats per character")

fig = connectivity_bars(panels)
show(fig, html)
'''


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    tab = s["tg_tab"]
    if tab == "Train live":
        return f"train_{s['tg_cell']}_{s.num('tg_hidden', int)}"
    if tab == "Inside the model":
        return "units"
    if tab == "Connectivity":
        return f"connectivity_t{s.num('tg_conn_t', int)}"
    return f"T{s.num('tg_temp'):g}".replace(".", "")


def _own(s: Settings, key: str) -> str:
    return "" if str(s[key]).startswith(SHIPPED_LABEL) else " " + OWN_MODEL


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["tg_tab"]
    if tab == "Train live":
        return _train(s, seed, file_name)
    if tab == "Inside the model":
        return _inside(s, seed, file_name)
    if tab == "Connectivity":
        return _connectivity(s, seed, file_name)
    consts = [Const("PROMPT", str(s["tg_prompt"]), "Prompt: the model reads this, then goes on"),
              Const("TEMPERATURE", s.num("tg_temp"), "Temperature (0: always the likeliest character)"),
              Const("TOP_K", s.num("tg_topk", int), "Top-k (0: all characters)"),
              Const("LENGTH", s.num("tg_len", int), "Characters"),
              Const("DRAW", s.num("tg_draw", int), "which sample: the page's Another button counts up"),
              Const("SEED", seed, "the sidebar's seed")]
    return render(
        title="Text generation, Generate: a character-level LSTM continues a prompt.",
        about="The pretrained model reads the prompt, then writes: each character drawn from its prediction "
              "(divided by the temperature, limited to the top k), fed back in, and so on. The script prints the "
              "text the page shows and its mean surprise, and draws how likely each written character was."
              + _own(s, "tg_model"),
        page_title=TITLE, file_name=file_name,
        imports=["import dataclasses", "import plotly.graph_objects as go",
                 "from rnnlab.labs.textgen import mean_surprise, shipped_model",
                 "from rnnlab.nn.charlm import generate"],
        consts=consts, body=GENERATE)


def _train(s: Settings, seed: int, file_name: str) -> str:
    own = s["tg_data"] != "tiny-shakespeare"
    consts = [Const("TEXT_FILE", "your_text.txt" if own else None,
                    "None: tiny-shakespeare; else your own text (a UTF-8 file)"),
              Const("CELL", s["tg_cell"], "Cell"),
              Const("HIDDEN", s.num("tg_hidden", int), "Hidden units"),
              Const("LAYERS", s.num("tg_layers", int), "Layers"),
              Const("SEQ_LEN", s.num("tg_seq", int), "Sequence length"),
              Const("BPTT", s.num("tg_bptt", int), "Truncated BPTT length"),
              Const("LR", s.num("tg_lr"), "Learning rate (Adam)"),
              Const("SECONDS", s.num("tg_secs", int), "Training time (s)"),
              Const("CARRY", s.flag("tg_carry"), "Carry the state from one window to the next"),
              Const("SEED", seed, "the sidebar's seed")]
    return render(
        title="Text generation, Train live: a character model trained from scratch for a fixed time.",
        about="The page's live training (its job function, run here in this process) with the page's settings: the "
              "text read as long streams side by side, window after window, the state carried over, the gradient "
              "flowing back at most BPTT characters; validated on the held-out end of the text. It takes SECONDS "
              "plus the validation; lower SECONDS for a quicker, rougher model."
              + (" The page trained on a text you pasted or uploaded: save it as a file and put its path in "
                 "TEXT_FILE." if own else ""),
        page_title=TITLE, file_name=file_name,
        imports=["import dataclasses", "import math", "from pathlib import Path", "import torch",
                 "from rnnlab.figures.textgen import loss_curves",
                 "from rnnlab.labs.textgen import EVAL_RESERVE, PRESETS, textgen_job",
                 "from rnnlab.runtime.device import seed_everything", "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=TRAIN)


def _inside(s: Settings, seed: int, file_name: str) -> str:
    feature = s["tg_feature"]
    consts = [Const("FEATURE", feature if isinstance(feature, str) else None,
                    "Feature (None: the first the finder lists)"),
              Const("RANK", s.num("tg_rank", int), "Unit: 0 is the unit best correlated with the feature"),
              Const("PASSAGE", s.num("tg_passage", int), "Held-out passage"),
              Const("SEED", seed, "the sidebar's seed (nothing here is random)")]
    return render(
        title="Text generation, Inside the model: units that track lines, words and speakers.",
        about="Every unit's activation, character by character over held-out text, correlated with features of "
              "the text; then one unit along one held-out passage against the chosen feature." + _own(s, "tg_imodel"),
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.data.chars import shakespeare", "from rnnlab.figures.textgen import unit_vs_feature",
                 "from rnnlab.labs.memory import model_digest",
                 "from rnnlab.labs.textgen import UNIT_CHARS, correlations, feature_values, passages, "
                 "shipped_model, shipped_units, signal_label, unit_report",
                 "from rnnlab.nn.charlm import activations"],
        consts=consts, body=INSIDE)


def _connectivity(s: Settings, seed: int, file_name: str) -> str:
    sample = None
    if s["tg_conn_source"] != "Held-out passage":       # the Generate tab's sample: written again from its settings
        sample = {"prompt": str(s["tg_prompt"]), "length": s.num("tg_len", int), "temperature": s.num("tg_temp"),
                  "top_k": s.num("tg_topk", int), "draw": s.num("tg_draw", int)}
    consts = [Const("PIECE", s.num("tg_conn_piece", int), "Which piece of the held-out text"),
              Const("SAMPLE", sample, "None: a held-out piece; else the Generate tab's settings, to write it again"),
              Const("T", s.num("tg_conn_t", int), "Position t (the character after it is predicted)"),
              Const("METHOD", s["tg_conn_method"], "Measure: gradient or integrated gradients"),
              Const("BACK", s.num("tg_conn_shown", int), "Characters back"),
              Const("NAMES", {"LSTM": "LSTM", "GRU": "GRU", "RNN": "tanh RNN"}, "the cells, as the page names them"),
              Const("SEED", seed, "the sidebar's seed")]
    return render(
        title="Text generation, Connectivity: which earlier characters drove a prediction.",
        about="For each shipped character model (an LSTM, and a GRU and a tanh RNN trained with the same recipe, "
              "once they are in assets/textgen/), the size of the gradient of log p(the next character) with "
              "respect to each earlier character's vector (Madsen 2019), or its integrated gradients; then the "
              "first model's five likeliest guesses at each position (Karpathy's view).",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.data.chars import shakespeare",
                 "from rnnlab.figures.connectivity import connectivity_bars",
                 "from rnnlab.labs.connectivity import MAX_PASSAGE, NEAR, char_connectivity, known_text, shipped_cell, "
                 "top_guesses", "from rnnlab.labs.textgen import passages, shipped_model",
                 "from rnnlab.nn.charlm import generate"],
        consts=consts, body=CONNECTIVITY)

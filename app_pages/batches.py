"""Batches of sequences: padding, masking and packing, what packing costs, and a model's word vectors."""
import dataclasses

import pandas as pd
import streamlit as st

from app_pages import common, training
from app_pages.common import (
    escape_md,
    keep_text_in_url,
    lessons,
    next_page,
    plot,
    reset_button,
    seed,
    shipped_model,
    url_text,
)
from rnnlab.data.tokenizer import Vocabulary
from rnnlab.figures.batching import cost_figure, direction_gap_html, packed_layout_html, padded_batch_html, word_map
from rnnlab.labs.batching import (
    COST_CONFIGS,
    DEFAULT_SENTENCES,
    LENGTHS,
    MAX_SENTENCES,
    MAX_TOKENS,
    PAD_LABELS,
    QUOTED,
    BatchError,
    compare_masking,
    fresh_bidirectional,
    make_batch,
    packed_layout,
    padding_cost_job,
)
from rnnlab.labs.calibration import pct
from rnnlab.labs.embeddings import (
    DEFAULT_AMONG,
    DEFAULT_NEIGHBOURS,
    DEFAULT_WORD,
    MAX_NEIGHBOURS,
    MAX_WORDS,
    WordError,
    chance_cosine,
    choose_words,
    embedding_table,
    mean_cosine,
    nearest_neighbours,
    project_2d,
    unit_rows,
    word_id,
    word_sentiment,
)
from rnnlab.labs.sentiment import calibrated

PAGE = "app_pages/batches.py"
COST_JOB = "bat_cost_job"
DEFAULT_WORDS = ("good great excellent wonderful brilliant superb bad awful terrible boring worst waste "
                 "movie film actor plot ending funny dull")
MAX_TEXT = 600
COST_SECONDS = {"small": 60.0, "course": 240.0}


def intro() -> None:
    st.title("Batches of sequences")
    common.intro("A network learns from batches: many sentences in one tensor. Sentences differ in length, so the "
                "short ones are **padded**; the layer must then be told where each one ends (**masking**, or "
                "**packing** in PyTorch), or it reads the padding as if it were words. The last tab opens the "
                "**word vectors** a trained model reads.")


def text_box(box, key: str, default: str, max_chars: int, label: str, height: int | None = None) -> str:
    """A text box (an area when ``height`` is given) with its link (``?key=…``) and its limit. The box's
    ``max_chars`` is kept by the browser and a client's value is cut by Streamlit, but a value already in the
    session is not: cut it before the box reads it (the box, the link and the downloadable script then hold
    what is read), and say so: the input guard does, for every box."""
    url_text(key, default, max_chars)
    value = box.text_area(label, key=key, max_chars=max_chars, height=height) if height \
        else box.text_input(label, key=key, max_chars=max_chars)
    keep_text_in_url(key, default, max_chars)
    return value


@st.cache_resource(max_entries=8, show_spinner=False)
def fallback_model(words: tuple[str, ...], seed_: int):
    vocab = Vocabulary().fit([" ".join(words)])
    return fresh_bidirectional(vocab, seed=seed_), vocab


@st.cache_resource(max_entries=2, show_spinner=False)
def unit_table(name: str, rows: int, _model, _vocab):
    return unit_rows(embedding_table(_model, _vocab))


def read_batch(tm):
    """The sentences box (shared by the first two tabs) and the batch it makes, or None with a message."""
    text = text_box(st, "bat_text", DEFAULT_SENTENCES, MAX_TEXT,
                    f"Sentences, one per line (up to {MAX_SENTENCES}, {MAX_TOKENS} tokens each)", height=120)
    if tm is not None:
        # the calibrated head: P(pos) here is the number the Sentiment lab and Inside the memory show
        model, vocab, who = calibrated(tm), tm.vocab, "the pretrained sentiment model"
    else:
        model, vocab = fallback_model(tuple(text.split()), seed())
        who = "a fresh, untrained bidirectional LSTM (the pretrained model is not installed)"
    try:
        batch = make_batch(text, vocab)
    except BatchError as err:
        st.warning(escape_md(str(err)))
        return None
    for note in batch.notes:
        st.info(note)
    return batch, model, vocab, who


# --- padding and masking ------------------------------------------------------------------------------
def padding_section(tm) -> None:
    """The padded tensor, then what the model computes with and without masking."""
    got = read_batch(tm)
    if got is None:
        return
    batch, model, vocab, who = got
    padding = st.radio("Pads go", ["post", "pre"], horizontal=True, key="bat_pad", bind="query-params",
                       format_func=PAD_LABELS.get)
    st.markdown(f"**The padded tensor**: {batch.size} × {batch.width} token ids "
                f"({batch.padding_share:.0%} of it padding).")
    if not batch.padding_share:
        st.info(("One sentence needs" if batch.size == 1 else "Sentences of the same length need") + " no padding, "
                "so masking changes nothing below: add a shorter sentence on a line of its own to see what the "
                "pads do.")
    token_ids = [r[:n] for r, n in zip(batch.ids.tolist(), batch.lengths.tolist())]
    st.container(key="bat_padded").html(padded_batch_html(batch.tokens, token_ids, batch.unknown, batch.width,
                                                          padding))
    if any(any(u) for u in batch.unknown):
        st.caption("Orange: words outside the model's vocabulary, read as <oov> (id 1).")
    cmp = compare_masking(model, batch, padding)
    masking_table(batch, cmp, who)
    per_token(batch, cmp, padding)


def masking_table(batch, cmp, who: str) -> None:
    """Each sentence read alone, in the batch with lengths=, and in the batch unmasked."""
    gaps = cmp.final_gap("unmasked")
    rows = []
    for b in range(batch.size):
        row = {"row": b, "sentence": batch.sentences[b][:80], "tokens": int(batch.lengths[b]),
               "pads": batch.width - int(batch.lengths[b]),
               "P(pos) alone": f"{cmp.prob_alone[b]:.4f}", "with lengths=": f"{cmp.prob_masked[b]:.4f}",
               "unmasked": f"{cmp.prob_unmasked[b]:.4f}"}
        for d, name in enumerate(cmp.token_diff):
            row[f"Δ final h ({name})"] = f"{gaps[b, d]:.3f}"
        rows.append(row)
    st.markdown(f"**What {who} computes**, each sentence alone, in the batch with `lengths=` "
                "(packed), and in the batch unmasked:")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    masked_gap = cmp.largest_gap("masked")
    m1, m2, m3 = st.columns(3)
    m1.metric("With lengths=: max |state − alone|", f"{masked_gap:.1e}",
              help="Every final state of the masked batch equals the sentence read alone (up to float32 "
                   "rounding), and so does P(pos) in the table.")
    m2.metric("Unmasked: max |final state − alone|", f"{cmp.largest_gap('unmasked'):.3f}")
    m3.metric("Unmasked: largest change of P(pos)",
              f"{cmp.largest_prob_change() * 100:.2f} points")


def per_token(batch, cmp, padding: str) -> None:
    """How far each output of the unmasked batch is from the sentence read alone, token by token."""
    st.markdown("**Per token**: how far each output of the unmasked batch is from the sentence read alone")
    st.html(direction_gap_html(cmp.token_diff, batch.tokens))
    if "backward" in cmp.token_diff:
        first = "backward" if padding == "post" else "forward"
        st.caption(f"The largest difference over the units, at each token. The {first} direction meets "
                   "the pads before the words, so every word of a padded row is read from a state that has "
                   "drifted; the other direction reads the pads only after the last word (its outputs at the "
                   "words are exact, but its final state, and any pooling over time, still include the pads). "
                   "The full-length row is untouched. Δ final h: the first recurrent layer's final state, "
                   "max |unmasked − alone| over the units.")
    else:
        st.caption("This model reads forwards only. With the pads at the end its outputs at the words are "
                   "exact and only its final state (and any pooling over time) includes the pads; with the "
                   "pads at the start, every word is read after them. Δ final h: the first recurrent "
                   "layer's final state, max |unmasked − alone| over the units.")


# --- packing ------------------------------------------------------------------------------------------
def packing_section(tm) -> None:
    """The same batch as pack_padded_sequence stores it, time step by time step."""
    got = read_batch(tm)
    if got is None:
        return
    batch = got[0]
    lay = packed_layout(batch.lengths)
    st.html(packed_layout_html(lay.lengths, lay.batch_sizes, lay.sorted_indices, lay.order))
    st.code("from torch.nn.utils.rnn import pack_padded_sequence\n"
            f"lengths = torch.tensor({lay.lengths})\n"
            "packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)\n"
            f"packed.batch_sizes      # tensor({lay.batch_sizes})\n"
            f"packed.sorted_indices   # tensor({lay.sorted_indices})\n"
            f"packed.data.shape[0]    # {lay.packed_steps} = sum of the lengths, not "
            f"{batch.size} × {batch.width} = {batch.size * batch.width}", language="python")
    st.caption("Packing sorts the rows longest first and stores the batch time step by time step, keeping only "
               "the rows still running: at step t the layer computes batch_sizes[t] rows and never a pad. "
               "The numbers in the cells are each token's place in packed.data. rnnlab's layers do this for "
               "you when given lengths=; a bidirectional layer runs its backward direction over the same "
               "layout from each row's own last word.")


# --- the cost ------------------------------------------------------------------------------------------
def cost_section() -> None:
    """Training steps timed padded and packed, as a job on the training worker."""
    st.markdown(f"Packing skips the padding, but the layer then computes a batch that shrinks from time step "
                f"to time step, which on a CPU runs slower than one regular pass over every cell. The course "
                f"measured its §6 BiLSTM (batch 64 × 200 tokens) on a 2-core CPU: **{QUOTED['padded']} s** per "
                f"training step padded and **{QUOTED['packed']} s** packed. Measure it here: training steps "
                "(forward, backward, Adam) on one random batch, padded and packed in turn.")
    c1, c2 = st.columns(2)
    config = c1.selectbox("Configuration", list(COST_CONFIGS), key="bat_cost_cfg", bind="query-params",
                          format_func=lambda k: COST_CONFIGS[k]["label"])
    lengths = c2.radio("Sentence lengths", list(LENGTHS), key="bat_cost_len", bind="query-params",
                       format_func=lambda k: LENGTHS[k])
    if config == "course":
        big = COST_CONFIGS["course"]
        st.caption(f"The course's size trains a {big['layers']}-layer BiLSTM of {big['hidden']} units for "
                   f"{2 * (big['rounds'] + 1)} steps in all, the slowest job on this page (many seconds on a "
                   "laptop CPU, longer while others train; the measured "
                   "step times appear when it ends). It queues like any training.")

    def start() -> training.Submission:
        lim = training.limits()
        lim = dataclasses.replace(lim, max_seconds=min(COST_SECONDS[config], lim.max_seconds))
        return training.Submission(padding_cost_job, {"config": config, "lengths": lengths, "seed": seed()},
                                   seed=seed(), job_limits=lim,
                                   meta={"lab": "batches", "task": "padding cost", "cell": "BiLSTM",
                                         "params": {"config": config, "lengths": lengths}})

    training.train_live(COST_JOB, training.Button("▶ Measure", "bat_cost_run"), start, when_done=cost_result,
                        idle="Press Measure: the steps run as a job on the training worker (one at a time for the "
                             "whole class), and the times appear here.")


def cost_result(job) -> None:
    """The measured step times, padded and packed, beside the course's."""
    res = job.result
    if not res.get("median"):
        return
    med, ratio = res["median"], res["ratio"]
    k1, k2, k3 = st.columns(3)
    k1.metric("Padded, per step", f"{med['padded']:.3g} s")
    k2.metric("Packed, per step", f"{med['packed']:.3g} s")
    k3.metric("Packed ÷ padded", f"{ratio:.2f}×",
              help=f"The course's figures give {QUOTED['packed'] / QUOTED['padded']:.2f}×.")
    cfg = COST_CONFIGS[res["config_name"]]
    label = (f"{cfg['label']}; {LENGTHS[res['lengths_kind']]} ({res['padding_share']:.0%} padding); "
             f"{res['params']:,} weights; {res['threads']} torch thread(s)")
    plot(cost_figure(res["times"], med, QUOTED), key="bat_cost_fig")
    st.caption(f"Measured on this machine just now: {label}. Dots are single steps, bars their median. "
               "The course's numbers are quoted as it reports them (its §6 model on 64 × 200 tokens, a "
               "2-core CPU); compare the ratio rather than the seconds, which depend on the machine, "
               "the threads the training worker may use, and how busy it is. Padding wastes work on pads, "
               "but the padded batch runs as one regular pass; on a CPU, packing rows of uneven lengths "
               "usually costs more than it saves (with every sentence full length the two take about as "
               "long). That is why rnnlab trains bidirectional models on batches of equal length "
               "and packs only where lengths differ.")


# --- embeddings ---------------------------------------------------------------------------------------
def embeddings_section(tm) -> None:
    """The trained model's word vectors: a word's nearest neighbours, and chosen words on a map."""
    if tm is None:
        st.info("The pretrained sentiment model is not installed, so there are no trained word vectors to show "
                "(an untrained model's vectors are random). Train one in the Sentiment lab.")
        return
    unit = unit_table(tm.name, len(tm.vocab), tm.model, tm.vocab)
    st.markdown(f"The model reads each word as a row of its embedding table: {unit.shape[0]:,} words × "
                f"{unit.shape[1]} numbers, learned while it learned to classify reviews. Words whose rows "
                "point the same way (high **cosine similarity**) are read alike.")
    neighbours(tm, unit)
    word_map_part(tm, unit)


def neighbours(tm, unit) -> None:
    """A word's nearest neighbours by cosine, against the random level."""
    e1, e2, e3 = st.columns([2, 1, 1])
    text_box(e1, "bat_word", DEFAULT_WORD, 40, "A word")
    k = e2.slider("Neighbours", 5, MAX_NEIGHBOURS, DEFAULT_NEIGHBOURS, key="bat_k", bind="query-params")
    among_options = [n for n in (1000, 2000, 5000, 10000, 20000) if n < unit.shape[0] - 2] + [unit.shape[0] - 2]
    among = e3.select_slider("Among the most frequent", among_options, value=min(DEFAULT_AMONG, among_options[-1]),
                             key="bat_among", bind="query-params", format_func=lambda n: f"{n:,} words",
                             help="Rare words were seen in few reviews: their rows barely moved from their "
                                  "random start, and crowd the list with accidental neighbours.")
    word = st.session_state["bat_word"]
    try:
        nbrs = nearest_neighbours(unit, tm.vocab, word, k, among)
        probs = word_sentiment(calibrated(tm), [word_id(tm.vocab, word, unit.shape[0])] +
                               [tm.vocab.index[n.word] for n in nbrs])
        chance = chance_cosine(unit, k, among, seed())
        st.markdown(f"**{escape_md(word.strip().lower())}** alone: P(positive) = {pct(probs[0])}. "
                    f"Its {k} nearest neighbours among the {among:,} most frequent words:")
        st.dataframe(pd.DataFrame([{"word": n.word, "cosine": round(n.cosine, 3),
                                    "P(pos) alone": pct(p), "frequency rank": n.rank_in_vocab}
                                   for n, p in zip(nbrs, probs[1:])]),
                     hide_index=True, width="stretch", height=min(38 + 35 * len(nbrs), 400))
        mean_cos = mean_cosine(nbrs)
        st.caption(f"Mean cosine of these neighbours: {mean_cos:.2f}. For comparison, a random direction's "
                   f"{k} nearest neighbours among the same words: {chance:.2f} on average. The table started "
                   "random, and a sentiment model moves each row only along the few directions its task "
                   "needs: neighbours tend to share a sentiment (compare P(pos)) more than a meaning, and "
                   "a cosine close to the random one means the row barely moved.")
    except WordError as err:
        st.warning(escape_md(str(err)))


def word_map_part(tm, unit) -> None:
    """The chosen words' vectors on their two main directions, coloured by the model's P(positive)."""
    text_box(st, "bat_words", DEFAULT_WORDS, 400, f"Words to place on the map (up to {MAX_WORDS})", height=80)
    chosen = choose_words(st.session_state["bat_words"], tm.vocab, unit.shape[0])
    if chosen.unknown:
        st.caption("Not in the model's vocabulary (left out): "
                   + ", ".join(escape_md(w) for w in chosen.unknown[:20]))
    try:
        coords, explained = project_2d(unit[chosen.ids])
        plot(word_map(coords, chosen.words, word_sentiment(calibrated(tm), chosen.ids), explained), key="bat_map")
        st.caption("Each word's (length-normalised) vector projected on the two directions along which the "
                   "chosen words vary most (PCA). Colour: the model's P(positive) for the word read alone as a "
                   "one-word review. A sentiment model's first direction is often its sentiment axis; "
                   "neutral words (movie, plot) sit in between.")
    except WordError as err:
        st.warning(escape_md(str(err)))


def batch_tabs(tm) -> None:
    """The four tabs, each drawn only while it is open."""
    tab_pad, tab_pack, tab_cost, tab_emb = st.tabs(["Padding and masking", "Packing", "What it costs",
                                                    "Embeddings"], key="bat_tab", bind="query-params")
    if tab_pad.open:
        with tab_pad:
            padding_section(tm)
    if tab_pack.open:
        with tab_pack:
            packing_section(tm)
    if tab_cost.open:
        with tab_cost:
            cost_section()
    if tab_emb.open:
        with tab_emb:
            embeddings_section(tm)


intro()
batch_tabs(shipped_model())      # the sentences box and the padded batch on the first screen, the lessons under them
lessons("batches")
reset_button("bat")
next_page(PAGE)

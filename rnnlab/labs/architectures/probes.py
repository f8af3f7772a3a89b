"""What the page asks of a trained model, on one input (fast): its answer, the probabilities on the way
and the real tensors' shapes for the diagrams."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...data import seqtasks
from .models import DigitNet, ParityNet, Tagger, WordWriter


@torch.no_grad()
def translate(model, task: str, text: str, forced: list[str] | None = None) -> dict:
    """Decode one input greedily: the output, the probability of each chosen symbol, the attention
    weights (output steps × input steps, or None) and the tensors' shapes. ``forced``: symbols fed first."""
    src_vocab, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    src, src_len = src_vocab.encode([text])
    f = None
    if forced:
        specials = seqtasks.SPECIALS
        f = torch.tensor([[tgt_vocab.ids(s)[0] if s not in specials else specials.index(s) for s in forced]])
    d = model.run(src, src_len, max_len=max(len(text), 10) + 4, forced=f)
    probs = torch.softmax(d.logits[0], -1)
    chosen = d.tokens[0]
    n = int((chosen == seqtasks.EOS).nonzero()[0, 0]) + 1 if (chosen == seqtasks.EOS).any() else len(chosen)
    enc_out, state, _ = model.encode(src, src_len)
    return {"output": tgt_vocab.decode(chosen), "symbols": [tgt_vocab.symbol(int(i)) for i in chosen[:n]],
            "prob": [float(probs[t, chosen[t]]) for t in range(n)],
            "attention": d.attention[0, :n].numpy() if d.attention is not None else None,
            "shapes": {"x": (1, len(text)), "embedded": (1, len(text), model.config.embed),
                       "encoder outputs": tuple(enc_out.shape), "context": (1, model.config.hidden),
                       "logits": (1, n, tgt_vocab.size)}}


def shape_text(name: str, shape) -> str:
    """ "h: 1 × 7 × 32" for a label in the diagrams."""
    return f"{name}: " + " × ".join(str(int(d)) for d in shape)


@torch.no_grad()
def classify_digit(model: DigitNet, image: Tensor) -> dict:
    """One image through the net: the probabilities and the real shapes on the way."""
    x = image.reshape(1, -1)
    h = torch.relu(model.hidden_layer(x))
    y = model.out(h)
    return {"probs": torch.softmax(y, -1)[0].tolist(),
            "shapes": {"x": shape_text("x", x.shape), "h": shape_text("h", h.shape), "y": shape_text("y", y.shape)}}


@torch.no_grad()
def write_word(model: WordWriter, digit: int, temperature: float, seed: int) -> dict:
    """One word written for ``digit``, letter by letter: each step's distribution (at this temperature),
    the letter drawn, and the exact distribution of the next letter after the letters drawn so far."""
    symbols, dists = model.sample(torch.tensor([digit]), temperature, torch.Generator().manual_seed(seed))
    steps, prefix = [], ""
    for k in range(symbols.shape[1]):
        i = int(symbols[0, k])
        if i == seqtasks.PAD:
            break
        sym = seqtasks.WORD_VOCAB.symbol(i)
        probs = {seqtasks.WORD_VOCAB.symbol(j): float(p) for j, p in enumerate(dists[0, k]) if float(p) > 0}
        # the exact distribution is empty once the letters drawn start no real name of the digit
        steps.append({"chosen": sym, "probs": probs, "ideal": seqtasks.ideal_next_letter(digit, prefix)})
        if i == seqtasks.EOS:
            break
        prefix += sym
    word = "".join(s["chosen"] for s in steps if s["chosen"] != seqtasks.SPECIALS[seqtasks.EOS])
    L = len(steps)
    h0 = model.initial_state(torch.tensor([digit]))
    h0 = h0[0] if isinstance(h0, tuple) else h0
    finished = bool(steps) and steps[-1]["chosen"] == seqtasks.SPECIALS[seqtasks.EOS]
    return {"word": word, "finished": finished, "steps": steps,
            "real": word in seqtasks.word_distribution(digit),
            "shapes": {"x": shape_text("x (letter fed back)", (1, L, model.embed.embedding_dim)),
                       "h": shape_text("h", (1, L, model.rnn.hidden_size)) + "  ·  " + shape_text("h₀", h0.shape),
                       "y": shape_text("y", (1, L, seqtasks.WORD_VOCAB.size))}}


@torch.no_grad()
def read_bits(model: ParityNet, bits: list[int]) -> dict:
    """The network's P(odd) after every bit of one string (the answer is the last one)."""
    x = torch.tensor([bits])
    out, _ = model.rnn(F.one_hot(x, 2).float())
    logits = model.out(out)
    p = torch.softmax(logits, -1)[0, :, 1]
    return {"p_odd": p.tolist(), "answer": int(p[-1] > 0.5), "truth": int(sum(bits) % 2),
            "shapes": {"x": shape_text("x", (1, len(bits), 2)), "h": shape_text("h", out.shape),
                       "y": shape_text("y", logits[:, -1].shape)}}


@torch.no_grad()
def tag_text(models: dict[str, Tagger], text: str) -> dict:
    """P(question) for every character of ``text`` from each tagger, and the true tags."""
    ids, _ = seqtasks.QA_VOCAB.encode([text])
    tags, dist = seqtasks.qa_tags(text)
    out, shapes = {}, {}
    for name, m in models.items():
        h, _ = m.rnn(m.embed(ids))
        y = m.out(h)
        out[name] = torch.softmax(y, -1)[0, :, 1].tolist()
        shapes[name] = {"x": shape_text("x", ids.shape), "h": shape_text("h", h.shape), "y": shape_text("y", y.shape)}
    return {"probs": out, "truth": tags, "distance": dist, "shapes": shapes}


def seq2seq_shapes(info: dict) -> dict:
    s = info["shapes"]
    return {"x": shape_text("x", s["x"]), "enc": shape_text("encoder outputs", s["encoder outputs"]),
            "dec": shape_text("c", s["context"]), "y": shape_text("y", s["logits"])}


@torch.no_grad()
def forcing_demo(model, task: str, text: str, target: str, position: int, symbol: str) -> dict:
    """The same decoder on one input, three ways: fed the true previous symbols (teacher forcing), fed its
    own (free running), and fed the true symbols up to ``position`` with ``symbol`` written there instead,
    then its own (what one early mistake does to the rest)."""
    src_vocab, tgt_vocab = seqtasks.SEQ2SEQ_TASKS[task]
    src, src_len = src_vocab.encode([text])
    dec_in, _ = tgt_vocab.encode([target], bos=True)
    teacher = model.run(src, src_len, dec_in=dec_in).logits.argmax(-1)[0]
    free = translate(model, task, text)["output"]
    forced = list(target[:position]) + [symbol]
    mistaken = translate(model, task, text, forced=forced)["output"]
    return {"teacher": tgt_vocab.decode(teacher), "free": free, "mistake": mistaken, "forced": "".join(forced)}

"""An encoder–decoder (seq2seq) of recurrent layers, with or without attention.

The encoder (a GRU or LSTM) reads the source; the decoder (the same cell) writes the target one symbol at
a time, starting from ``<s>`` and fed, at each step, the previous symbol: the *true* one while training
(teacher forcing) or its *own* prediction when it runs free (greedy decoding). What the decoder knows of
the source is a context vector c:

* ``attention=None``  (Cho et al. 2014): c is the encoder's last hidden state, the same at every step; it
  also starts the decoder. Everything the decoder will ever know of the input must fit in that one vector.
* ``"bahdanau"``      (Bahdanau, Cho & Bengio 2015, additive): at step t the previous decoder state s_{t-1}
  scores every encoder state h_j, e_tj = vᵀ tanh(W s_{t-1} + U h_j); α_t = softmax(e_t) over the source
  positions; c_t = Σ_j α_tj h_j is fed into the decoder with the previous symbol.
* ``"luong"``         (Luong, Pham & Manning 2015, "general"): the current decoder state h_t scores
  e_tj = h_tᵀ W h_j; c_t = Σ_j α_tj h_j; the output is read from h̃_t = tanh(W_c [c_t; h_t]).

In every variant the output layer sees the decoder state and c_t, and the decoder starts from the encoder's
final state, so the three differ only in where c comes from. ``run`` returns the attention weights α
(batch, output steps, input steps); each row sums to 1 over the real (unpadded) input positions.

Parameter names follow ``torch.nn`` (the recurrent layers are ``rnnlab.nn.layers`` GRU/LSTM).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import make_recurrent

ATTENTIONS = (None, "bahdanau", "luong")
BOS, EOS, PAD = 1, 2, 0   # the ids of rnnlab.data.seqtasks.CharVocab


@dataclass
class Seq2SeqConfig:
    src_vocab: int
    tgt_vocab: int
    embed: int = 32
    hidden: int = 64
    cell: str = "GRU"
    attention: str | None = None
    bidirectional_encoder: bool = False   # H/2 units each way; their outputs and final states concatenated

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Decoded:
    """What a decoding run produced: logits (B, T, V), the symbols fed back or chosen (B, T), and the
    attention weights (B, T, S) (None without attention)."""

    logits: Tensor
    tokens: Tensor
    attention: Tensor | None


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        c = self.config = config
        if c.attention not in ATTENTIONS:
            raise ValueError(f"unknown attention {c.attention!r}; choose None, 'bahdanau' or 'luong'")
        if c.cell.upper() not in ("GRU", "LSTM"):
            raise ValueError("the encoder and decoder are a GRU or an LSTM")
        H = c.hidden
        self.src_embed = nn.Embedding(c.src_vocab, c.embed, padding_idx=PAD)
        if c.bidirectional_encoder and H % 2:
            raise ValueError("a bidirectional encoder needs an even hidden size (half for each direction)")
        self.encoder = make_recurrent(c.cell, c.embed, H // 2 if c.bidirectional_encoder else H, batch_first=True,
                                      bidirectional=c.bidirectional_encoder)
        self.tgt_embed = nn.Embedding(c.tgt_vocab, c.embed, padding_idx=PAD)
        # Luong's decoder reads only the previous symbol; the others also read the context
        self.decoder = make_recurrent(c.cell, c.embed + (0 if c.attention == "luong" else H), H, batch_first=True)
        if c.attention == "bahdanau":
            self.attn_query = nn.Linear(H, H, bias=False)      # W
            self.attn_key = nn.Linear(H, H)                    # U
            self.attn_score = nn.Linear(H, 1, bias=False)      # v
        elif c.attention == "luong":
            self.attn_general = nn.Linear(H, H, bias=False)    # W (general score)
            self.attn_combine = nn.Linear(2 * H, H)            # W_c
        self.out = nn.Linear(H if c.attention == "luong" else 2 * H, c.tgt_vocab)

    # --- encoder ----------------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_len: Tensor):
        """(encoder outputs (B, S, H), final state, mask (B, S) of real positions)."""
        emb = self.src_embed(src)
        if self.config.cell.upper() == "GRU" and not self.config.bidirectional_encoder:
            # A forward GRU never looks ahead: run the padded batch on the fused kernel (packing costs 2-3×
            # on a CPU) and read each row's final state at its own last symbol; attention masks the padding.
            out, _ = self.encoder(emb)
            state = out[torch.arange(src.shape[0], device=src.device), src_len.to(src.device) - 1][None]
        else:   # an LSTM's final cell state, or a backward direction, needs the packed sequence
            out, state = self.encoder(emb, lengths=src_len)
        if self.config.bidirectional_encoder:   # (2, B, H/2) → (1, B, H): forward's last step, backward's first
            join = lambda s: torch.cat([s[0], s[1]], dim=-1)[None]  # noqa: E731
            state = tuple(join(s) for s in state) if isinstance(state, tuple) else join(state)
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_len.to(src.device)[:, None]
        return out, state, mask

    @staticmethod
    def _h(state) -> Tensor:
        """The hidden state h (B, H) of a 1-layer state (h for a GRU, (h, c) for an LSTM)."""
        return (state[0] if isinstance(state, tuple) else state)[-1]

    # --- attention ----------------------------------------------------------------------------------------
    def _attend(self, query: Tensor, enc_out: Tensor, mask: Tensor, keys: Tensor | None) -> tuple[Tensor, Tensor]:
        """query (B, T, H) → (context (B, T, H), weights (B, T, S)), softmax over the real source positions."""
        if self.config.attention == "bahdanau":
            energy = torch.tanh(self.attn_query(query)[:, :, None, :] + keys[:, None, :, :])    # (B, T, S, H)
            scores = self.attn_score(energy).squeeze(-1)
        else:
            scores = self.attn_general(query) @ enc_out.transpose(1, 2)
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ enc_out, weights

    # --- decoding -----------------------------------------------------------------------------------------
    def forward(self, src: Tensor, src_len: Tensor, dec_in: Tensor) -> Tensor:
        """Teacher forcing: logits (B, T, V) for decoder inputs ``<s> y_1 … y_{T-1}``. Without attention or
        with Luong's, the whole target runs through the fused recurrent kernel at once."""
        a = self.config.attention
        if a == "bahdanau":
            return self.run(src, src_len, dec_in=dec_in).logits
        enc_out, state, mask = self.encode(src, src_len)
        emb = self.tgt_embed(dec_in)
        if a is None:
            ctx = self._h(state)[:, None, :].expand(-1, dec_in.shape[1], -1)
            dec_out, _ = self.decoder(torch.cat([emb, ctx], dim=-1), state)
            return self.out(torch.cat([dec_out, ctx], dim=-1))
        dec_out, _ = self.decoder(emb, state)
        ctx, _ = self._attend(dec_out, enc_out, mask, None)
        return self.out(torch.tanh(self.attn_combine(torch.cat([ctx, dec_out], dim=-1))))

    def run(self, src: Tensor, src_len: Tensor, dec_in: Tensor | None = None, max_len: int = 30,
            forced: Tensor | None = None, stop_at_eos: bool = True) -> Decoded:
        """Decode step by step.

        ``dec_in`` given: teacher forcing, the true previous symbol is fed at every step. Otherwise the
        decoder runs free from ``<s>``, fed its own most likely symbol (greedy) for up to ``max_len`` steps;
        ``forced`` (B, k) makes it read those k symbols first (e.g. a prefix with a deliberate mistake),
        then run free. ``tokens`` holds the symbol chosen (free) or fed next (teacher) at each step."""
        enc_out, state, mask = self.encode(src, src_len)
        a = self.config.attention
        keys = self.attn_key(enc_out) if a == "bahdanau" else None
        fixed_ctx = self._h(state)
        B = src.shape[0]
        steps = dec_in.shape[1] if dec_in is not None else max_len
        prev = dec_in[:, 0] if dec_in is not None else torch.full((B,), BOS, dtype=torch.long, device=src.device)
        logits, tokens, weights = [], [], []
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        for t in range(steps):
            emb = self.tgt_embed(prev)[:, None, :]
            if a == "bahdanau":
                ctx, w = self._attend(self._h(state)[:, None, :], enc_out, mask, keys)
                dec_out, state = self.decoder(torch.cat([emb, ctx], dim=-1), state)
                logit = self.out(torch.cat([dec_out, ctx], dim=-1))[:, 0]
                weights.append(w[:, 0])
            elif a == "luong":
                dec_out, state = self.decoder(emb, state)
                ctx, w = self._attend(dec_out, enc_out, mask, None)
                logit = self.out(torch.tanh(self.attn_combine(torch.cat([ctx, dec_out], dim=-1))))[:, 0]
                weights.append(w[:, 0])
            else:
                dec_out, state = self.decoder(torch.cat([emb, fixed_ctx[:, None, :]], dim=-1), state)
                logit = self.out(torch.cat([dec_out[:, 0], fixed_ctx], dim=-1))
            logits.append(logit)
            if dec_in is not None:
                nxt = dec_in[:, t + 1] if t + 1 < steps else logit.argmax(-1)
                tokens.append(logit.argmax(-1))
            elif forced is not None and t < forced.shape[1]:
                nxt = forced[:, t]
                tokens.append(nxt)
            else:
                nxt = logit.argmax(-1)
                tokens.append(nxt)
                done = done | (nxt == EOS)
                if stop_at_eos and bool(done.all()):
                    break
            prev = nxt
        return Decoded(torch.stack(logits, 1), torch.stack(tokens, 1), torch.stack(weights, 1) if weights else None)


def build(config: Seq2SeqConfig | dict, seed: int = 0) -> Seq2Seq:
    """A seq2seq model initialised from ``seed`` (never from torch's global generator)."""
    from .init import seeded

    cfg = config if isinstance(config, Seq2SeqConfig) else Seq2SeqConfig(**config)
    return seeded(lambda: Seq2Seq(cfg), seed)


def sequence_loss(model: Seq2Seq, batch) -> tuple[Tensor, dict]:
    """Cross-entropy of the next symbol under teacher forcing (padding ignored), and token accuracy."""
    src, src_len, dec_in, dec_out = batch
    logits = model(src, src_len, dec_in)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), dec_out.reshape(-1), ignore_index=PAD)
    real = dec_out != PAD
    acc = ((logits.argmax(-1) == dec_out) & real).sum() / real.sum()
    return loss, {"token_acc": acc}

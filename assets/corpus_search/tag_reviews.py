"""Write ``imdb_test_pos.txt.gz`` beside this file: the part-of-speech tags of every review of the compact IMDB
test half, one letter per token of the sentiment model's tokenizer (``rnnlab.labs.corpus_search.pos``).

    pip install textblob && PYTHONPATH=. python assets/corpus_search/tag_reviews.py     # from the repository root

An offline tool: TextBlob's Pattern tagger (its lexicon and rules ship inside the wheel) runs here once; the app
only reads the file it writes.
"""
from __future__ import annotations

import gzip

from textblob import _text as pattern
from textblob.en import lexicon

from rnnlab.data.text import load_compact_imdb
from rnnlab.labs.corpus_search.pos import ASSET, cased_tokens, tag_letters


def penn_tags(words: list[str]) -> list[str]:
    """TextBlob's Pattern tagger with all its parts: lexicon, suffix rules for unknown words, contextual rules."""
    tagged = pattern.find_tags(words, lexicon=lexicon, morphology=lexicon.morphology, context=lexicon.context,
                               entities=lexicon.entities)
    return [tag for _, tag in tagged]


def main() -> None:
    texts = load_compact_imdb()["test"].texts
    lines = [tag_letters(cased_tokens(t), penn_tags) for t in texts]
    ASSET.write_bytes(gzip.compress("\n".join(lines).encode("ascii"), compresslevel=9, mtime=0))
    print(f"{len(lines):,} reviews, {sum(map(len, lines)):,} tokens -> {ASSET} ({ASSET.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

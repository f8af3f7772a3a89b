"""Search a whole corpus for a hidden-state pattern (LSTMVis's match view): the corpora and their meta-data
(``corpus``, ``pos``), the states kept on disk per model (``index``), the query (``search``), what the page
shows of it (``views``) and the job that builds an index (``job``)."""
from .corpus import (
    CHAR_TRACKS,
    CHARS,
    IMDB_REVIEWS,
    POS_TRACK,
    WORDS,
    Corpus,
    chars_corpus,
    corpus_key,
    imdb_corpus,
    make_corpus,
    shakespeare_corpus,
    tracks,
    words_corpus,
)
from .index import (
    MAX_INDEX_BYTES,
    MAX_INDEXES,
    SCALE,
    Index,
    build_index,
    cache_root,
    evict,
    halves,
    index_folder,
    index_info,
    pack_bits,
    read_chars,
    read_words,
    sentiment_top,
)
from .job import MODELS, SearchModel, corpus_index_job, index_path, load_model
from .pos import TAG_NAMES, imdb_tags
from .search import MATCHES, MAX_SPAN, Match, Query, Result, brute_force, level, search, units_off, units_on, window_and
from .views import (
    CONTEXT,
    MatchView,
    agreement,
    context_text,
    default_piece,
    default_stretch,
    match_views,
    strongest,
    summarise,
    view,
    where,
)

__all__ = [
    "CHAR_TRACKS", "CHARS", "CONTEXT", "IMDB_REVIEWS", "MATCHES", "MAX_INDEX_BYTES", "MAX_INDEXES", "MAX_SPAN",
    "MODELS", "POS_TRACK", "SCALE", "TAG_NAMES", "WORDS", "Corpus", "Index", "Match", "MatchView", "Query", "Result",
    "SearchModel", "agreement", "brute_force", "build_index", "cache_root", "chars_corpus", "context_text",
    "corpus_index_job", "corpus_key", "default_piece", "default_stretch", "evict", "halves", "imdb_corpus",
    "imdb_tags", "index_folder", "index_info", "index_path", "level", "load_model", "make_corpus", "match_views",
    "pack_bits", "read_chars", "read_words", "search", "sentiment_top", "shakespeare_corpus", "strongest", "summarise",
    "tracks", "units_off", "units_on", "view", "where", "window_and", "words_corpus",
]

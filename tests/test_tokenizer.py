import pytest

from rnnlab.data.tokenizer import OOV, PAD, Vocabulary, clean, pad, tokenize


def test_tokenize_words_punctuation_html_and_emoji():
    assert tokenize("It's GREAT!<br /><br />Loved it 😀") == ["it's", "great", "!", "loved", "it", "😀"]
    assert tokenize("Ünïcödé café — naïve") == ["ünïcödé", "café", "—", "naïve"]
    assert tokenize("映画はとても良かった") == ["映画はとても良かった"]
    assert tokenize("   <p></p>  ") == []
    assert clean("a &amp; b") == "a & b"


def test_vocabulary_like_keras():
    v = Vocabulary(num_words=4).fit(["good good good bad bad film", "good film film"])
    assert v.words[:2] == ["<pad>", "<oov>"]
    assert v.words[2:] == ["good", "film"]  # num_words=4 keeps ids 0..3
    assert v.encode("good bad film") == [2, OOV, 3]
    assert v.encode("good bad film", maxlen=5) == [PAD, PAD, 2, OOV, 3]
    assert v.encode("good bad film", maxlen=2) == [OOV, 3]            # truncating="pre" keeps the end
    assert v.encode("good bad film", maxlen=2, truncating="post") == [2, OOV]
    assert v.encode("good", maxlen=3, padding="post") == [2, PAD, PAD]
    assert v.decode([2, 3, 1, 0]) == ["good", "film", "<oov>", "<pad>"]


def test_vocabulary_round_trip(tmp_path):
    v = Vocabulary(num_words=100).fit(["héllo wörld 😀", "wörld"])
    v.save(tmp_path / "vocab.json")
    w = Vocabulary.load(tmp_path / "vocab.json")
    assert w.words == v.words and w.encode("wörld 😀 new") == v.encode("wörld 😀 new")


def test_pad_rejects_unknown_modes():
    with pytest.raises(ValueError):
        pad([1, 2], 3, padding="middle")


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
def test_invisible_characters_do_not_split_words(invisible):
    assert tokenize(f"a gr{invisible}eat fi{invisible}lm") == ["a", "great", "film"]
    assert tokenize(invisible * 50) == []


def test_odd_unicode_stays_in_its_word():
    assert tokenize("It’s फ़िल्म हिन्दी") == ["it's", "फ़िल्म", "हिन्दी"]           # marks stay inside the word
    assert tokenize("ｇｒｅａｔ") == ["great"]                                  # NFKC folds full-width letters
    assert tokenize("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f") == ["🏴"]

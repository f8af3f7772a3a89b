"""What-if edit templates: every rule gives a grammatical edit, never a doubled negation."""
import pytest

from rnnlab.labs.explain import antonym_swaps, clause_drops, negations, suggest


def texts(edits):
    return [e.text for e in edits]


@pytest.mark.parametrize("review,edited", [
    ("This movie is good.", "This movie is not good."),                     # copula: insert "not"
    ("The plot is not good.", "The plot is good."),                         # take a negation away ...
    ("It wasn't terrible.", "It was terrible."),                            # ... also a contracted one
    ("I don't like it.", "I do like it."),
    ("It's fun to watch.", "It's not fun to watch."),                       # pronoun + 's
    ("You can see why.", "You can not see why."),                           # modal
    ("I loved it.", "I did not love it."),                                  # main verb, past
    ("He loves this film.", "He does not love this film."),                 # main verb, 3rd person
    ("I love this film.", "I do not love this film."),
    ("The film has a great cast.", "The film does not have a great cast."),  # "have" as the main verb
    ("It has been a joy.", "It has not been a joy."),                        # "have" as an auxiliary
    ("The film does a great job.", "The film does not do a great job."),     # "do" as the main verb
    ("I did enjoy it.", "I did not enjoy it."),                              # "do" as an auxiliary
    ("THIS IS GREAT", "THIS IS not GREAT"),
])
def test_negate_at_the_verb(review, edited):
    assert texts(negations(review))[0] == edited


def test_negation_is_never_doubled_and_labels_show_the_change():
    for review in ["It wasn't not terrible.", "It is not bad, it isn't boring.", "I would not say it is bad."]:
        for e in negations(review):
            assert "not not" not in e.text and "n't not" not in e.text, e.text
    label = negations("The plot is not good.")[0].label
    assert label == "“is not good” → “is good”"


@pytest.mark.parametrize("review", ["I was bored.", "I want to love it.", "The film's plot."])
def test_no_main_verb_negation_where_it_would_be_wrong(review):
    assert "did not bore" not in " ".join(texts(negations(review)))
    assert "to do not love" not in " ".join(texts(negations(review)))
    assert all("not" in e.text for e in negations(review))


def test_antonym_swaps_keep_capitals():
    edits = antonym_swaps("Brilliant acting, GREAT story, good ending. Worth watching.")
    assert texts(edits) == ["Dreadful acting, GREAT story, good ending. Worth watching.",
                            "Brilliant acting, TERRIBLE story, good ending. Worth watching.",
                            "Brilliant acting, GREAT story, bad ending. Worth watching.",
                            "Brilliant acting, GREAT story, good ending. Not worth watching."]
    assert edits[1].label == "“GREAT” → “TERRIBLE”"
    assert texts(antonym_swaps("I hated it")) == ["I loved it"]


def test_drop_the_clause_after_or_before_but():
    review = "Beautiful photography, but the story falls apart. Disappointing."
    assert texts(clause_drops(review)) == ["Beautiful photography. Disappointing.",
                                           "The story falls apart. Disappointing."]


def test_drop_an_although_clause_and_a_however_sentence():
    assert texts(clause_drops("Although the script is weak, the acting is superb.")) == ["The acting is superb."]
    assert texts(clause_drops("The cast is great. However, the plot is a mess.")) == [
        "The cast is great.", "The plot is a mess."]
    assert clause_drops("A plain review with no contrast.") == []


def test_suggest_gives_each_template_bounded_and_distinct():
    review = ("The first half is slow and the lead is not very convincing, but the second half is gripping and "
              "the finale is brilliant. Worth watching.")
    edits = suggest(review, per_kind=3)
    kinds = [e.kind for e in edits]
    assert kinds == ["negate"] * 3 + ["antonym"] * 3 + ["drop"] * 2
    assert len({e.text for e in edits}) == len(edits) and review not in texts(edits)
    assert suggest("") == [] and suggest("$$ ~~ **") == []
    assert len(suggest("good " * 5000, per_kind=4)) == 4          # a huge text gives a bounded list

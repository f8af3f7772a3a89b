"""The Sentiment lab's example reviews (the page's picker and its lessons read the same texts)."""
from __future__ import annotations

EXAMPLES = {
    "A rave": "One of the best films I have seen in years. The performances are wonderful, the script is sharp "
              "and funny, and the ending moved me to tears. A masterpiece.",
    "A pan": "What a waste of two hours. The plot makes no sense, the acting is wooden and the dialogue is "
             "painfully bad. I kept checking my watch. Avoid.",
    "Mixed, ends well": "The first half is slow and the lead is not very convincing, but the second half is "
                        "gripping and the finale is brilliant. Worth watching.",
    "Mixed, ends badly": "Beautiful photography and a great soundtrack, but the story falls apart and the "
                         "ending is a terrible letdown. Disappointing.",
    "Negation": "I would not say this film is bad. It is not boring at all, and the acting is not without charm.",
}
DEFAULT_EXAMPLE = "Mixed, ends well"

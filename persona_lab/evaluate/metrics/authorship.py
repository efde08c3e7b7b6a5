"""Authorship: "did I write this?", as in PAN authorship verification.

A scikit-learn classifier is trained on my training replies against the other speakers' lines in my chats:
character 1-4-gram TF-IDF (which works for Chinese without word segmentation) plus stylometric features
(length, punctuation, emoji, laughter, question rate), logistic regression, probabilities calibrated
(isotonic, 3-fold). A closed-set classifier is over-confident on text unlike anything it saw (a generic
chatbot, strangers on Weibo): it only learned "not my friends". So each probability is multiplied by a
typicality factor, the share of the reply's character bigrams that occur in my own training replies,
relative to the same share for my real held-out replies (capped at 1): the open-set fix of authorship
verification. The score of a set of replies is their mean P(me) x typicality divided by the same for my
real held-out replies: 1.0 means "as much me as me". The AUC on held-out data (my real held-out replies
against the other speakers' held-out lines) is reported, because a metric that cannot tell me from my
friends is worthless.
"""

from __future__ import annotations

import numpy as np

from persona_lab.evaluate.metrics.style import style_features
from persona_lab.evaluate.profile import split_lines


class Authorship:
    name, family = "authorship", "authorship"
    description = "mean P(written by me) of the replies / the same for my real held-out replies"

    def prepare(self, ctx) -> None:
        from scipy.sparse import hstack
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        mine, others = ctx.profile.mine, ctx.profile.others
        if len(others) < 10:
            raise ValueError("authorship needs other speakers' lines in the training file (user turns); found "
                             f"{len(others)}")
        self.hstack = hstack
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, sublinear_tf=True,
                                          max_features=200_000)
        self.scaler = StandardScaler()
        texts = mine + others
        labels = np.array([1] * len(mine) + [0] * len(others))
        features = self._features(texts, fit=True)
        classifier = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000)
        self.model = CalibratedClassifierCV(classifier, method="isotonic", cv=3).fit(features, labels)
        self.bigrams = _seen_bigrams(mine)
        self.typical = max(float(np.mean([self._coverage(t) for t in ctx.refs])), 1e-6)
        held_out_others = [line for context in ctx.contexts for m in context if m.get("role") == "user"
                           for line in split_lines(m.get("content", ""))]
        self.auc = self._auc(ctx.refs, list(dict.fromkeys(held_out_others)))

    def _features(self, texts: list[str], fit: bool = False):
        from scipy.sparse import csr_matrix

        tfidf = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        style = style_features(texts, catchphrases=[])
        style = self.scaler.fit_transform(style) if fit else self.scaler.transform(style)
        return self.hstack([tfidf, csr_matrix(style * 0.3)]).tocsr()

    def _coverage(self, text: str) -> float:
        grams = [text[i:i + 2] for i in range(len(text) - 1) if not text[i:i + 2].isspace()]
        return sum(1 for g in grams if g in self.bigrams) / len(grams) if grams else 0.0

    def probability(self, texts: list[str]) -> np.ndarray:
        """P(me) from the classifier, times the typicality factor."""
        classifier = self.model.predict_proba(self._features([t or " " for t in texts]))[:, 1]
        typicality = np.array([min(1.0, self._coverage(t) / self.typical) for t in texts])
        return classifier * typicality

    def _auc(self, mine: list[str], others: list[str]) -> float | None:
        if len(others) < 5 or len(mine) < 5:
            return None
        from sklearn.metrics import roc_auc_score

        scores = self.probability(mine + others)
        return float(roc_auc_score([1] * len(mine) + [0] * len(others), scores))

    def rows(self, replies: list[str], refs: list[str]) -> np.ndarray:
        return self.probability(replies)[:, None]

    def summarise(self, rows: np.ndarray, real_rows: np.ndarray) -> float:
        return float(rows[:, 0].mean() / max(real_rows[:, 0].mean(), 1e-9))

    def breakdown(self, rows, real_rows) -> dict[str, float]:
        return {"p_me": float(rows[:, 0].mean()), "p_me_real": float(real_rows[:, 0].mean())}


def _seen_bigrams(texts: list[str], min_count: int = 2) -> set[str]:
    from collections import Counter

    counts = Counter(t[i:i + 2] for t in texts for i in range(len(t) - 1))
    return {g for g, n in counts.items() if n >= min_count}

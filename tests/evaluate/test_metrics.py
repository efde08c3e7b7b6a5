"""Each metric can fail: a reply set built to be off in the way the metric guards against scores low, and
my real replies (cross-fitted) score high. Small original data (tests/evaluate/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from persona_lab.evaluate.crossfit import split
from persona_lab.evaluate.metrics.context import CJKTokenizer, rouge_l_f1
from persona_lab.evaluate.metrics.failures import FailureModes, repeated_share
from persona_lab.evaluate.metrics.voice import select_features, style_values, w1_to_uniform
from persona_lab.evaluate.profile import load_profile
from persona_lab.evaluate.score import make_metrics
from persona_lab.workspace.shapes import read_eval_items
from tests.evaluate.conftest import OTHERS


@pytest.fixture(scope="module")
def bound(tmp_path_factory):
    from tests.evaluate.conftest import eval_rows, training_rows, write_jsonl

    folder = tmp_path_factory.mktemp("persona")
    profile = load_profile(write_jsonl(folder / "train.jsonl", training_rows(240)))
    items = split(read_eval_items(write_jsonl(folder / "refs.jsonl", eval_rows(48))))
    metrics = make_metrics(profile, {})
    for metric in metrics.values():
        metric.bind(items)
    return profile, items, metrics


def value(metrics, name: str, replies: list[str], items) -> float:
    metric = metrics[name]
    return metric.summarise(metric.rows(replies, np.arange(items.n)))


def shifted(replies: list[str], by: int) -> list[str]:
    return replies[by:] + replies[:by]


def test_wasserstein_to_uniform_is_zero_for_an_even_spread_and_one_at_an_end():
    even = (np.arange(100) + 0.5)[:, None] / 100
    assert w1_to_uniform(even)[0] == pytest.approx(0.0)
    assert 2 * w1_to_uniform(np.zeros((100, 1)))[0] == pytest.approx(1.0, abs=0.01)
    assert 2 * w1_to_uniform(np.full((100, 1), 0.5))[0] == pytest.approx(0.5, abs=0.01)


def test_authorship_is_two_sided(bound):
    _, items, metrics = bound
    real = value(metrics, "authorship", items.replies, items)
    others = value(metrics, "authorship", [OTHERS[i % len(OTHERS)] for i in range(items.n)], items)
    # over-doing me: my most typical words stacked in every reply lands above all my real replies
    caricature = value(metrics, "authorship", ["卧槽 哈哈哈 稳了 绝了 可以的 卧槽 哈哈哈"] * items.n, items)
    assert real > 0.8 and others < 0.3 and caricature < 0.3
    rows = metrics["authorship"].rows(["卧槽 哈哈哈 稳了 绝了 可以的"] * items.n, np.arange(items.n))
    assert metrics["authorship"].breakdown(rows)["direction.authorship"] > 0.3  # "more me than me"


def test_style_catches_a_constant_and_says_which_way(bound):
    _, items, metrics = bound
    assert value(metrics, "style", items.replies, items) > 0.8
    constant = ["好"] * items.n
    rows = metrics["style"].rows(constant, np.arange(items.n))
    assert metrics["style"].summarise(rows) < 0.7 and metrics["style"].breakdown(rows)["distance.length"] > 0.9
    long = [r * 6 for r in items.replies]
    rows = metrics["style"].rows(long, np.arange(items.n))
    breakdown = metrics["style"].breakdown(rows)
    assert breakdown["direction.length"] > 0.4 and breakdown["distance.length"] > 0.8


def test_style_drops_constant_and_repeated_features():
    texts = ["hello there friend", "hi!", "ok ok ok ok ok", "what?", "sure thing buddy"] * 20
    _, dropped = select_features(style_values(texts, None))
    assert "emoji" in dropped and "the same value" in dropped["emoji"]
    assert "uppercase_share" in dropped or "latin_share" in dropped  # never varies in this text
    assert "length" not in dropped


def test_context_fit_rewards_only_what_a_reply_owes_its_context(bound):
    _, items, metrics = bound
    real = value(metrics, "context", items.replies, items)
    moved = value(metrics, "context", shifted(items.replies, items.n // 2), items)
    constant = value(metrics, "context", ["好的"] * items.n, items)
    assert real > 0.3 and abs(moved) < 0.25 and constant == pytest.approx(0.0)


def test_content_gains_are_zero_for_replies_written_elsewhere(bound):
    _, items, metrics = bound
    for name in ("rouge_l", "embedding_sim"):
        own = value(metrics, name, items.replies, items)
        elsewhere = value(metrics, name, shifted(items.replies, items.n // 2), items)
        assert own > 0.3 and abs(elsewhere) < 0.15, name
    assert metrics["rouge_l"].self_referential and not metrics["context"].self_referential


def test_rouge_l_equals_rouge_score():
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rougeL"], tokenizer=CJKTokenizer())
    pairs = [("周末打球吗 ok", "周末 一起打球 ok ok"), ("How you doin?", "how are you doing"), ("", "x"),
             ("卧槽 真的假的", "真的")]
    tokenizer = CJKTokenizer()
    for reference, candidate in pairs:
        expected = scorer.score(reference, candidate)["rougeL"].fmeasure
        assert rouge_l_f1(tokenizer.tokenize(candidate), tokenizer.tokenize(reference)) == pytest.approx(expected)


def test_failures_count_only_beyond_my_own_rate(bound):
    _, items, metrics = bound
    failures = metrics["failures"]
    assert value(metrics, "failures", items.replies, items) > 0.9  # this persona repeats itself a lot
    assert value(metrics, "failures", ["As an AI language model, I cannot."] * items.n, items) == 0.0
    empty = ["" if i % 4 == 0 else r for i, r in enumerate(items.replies)]
    assert value(metrics, "failures", empty, items) == pytest.approx(0.75, abs=0.03)
    looping = ["好的好的好的好的好的好的好的好的好的好的好的好的好的"] + items.replies[1:]
    assert failures.rows(looping, np.arange(items.n))[0, 1] == 1.0  # repetition flagged
    assert repeated_share("I think so. I think so. I think so. I think so.")[0] > 0.5


def test_duplicates_are_judged_against_how_often_i_repeat_myself():
    class Profile:
        mine = ["hey", "hey", "sure", "ok"] * 50 + [f"line {i}" for i in range(800)]

    failures = FailureModes()
    failures.fit(Profile(), {})
    rng = np.random.default_rng(0)  # the closed form against drawing 100 of my replies, 400 times
    drawn = [failures._flags(list(rng.choice(Profile.mine, 100)))[:, 2].mean() for _ in range(400)]
    assert failures.expected_duplicate_share(100) == pytest.approx(np.mean(drawn), abs=0.01)
    rows = failures._flags(["hey"] * 20 + [f"fresh {i}" for i in range(80)])
    assert failures.excess(rows)["duplicate"] == pytest.approx(0.0, abs=0.05)
    rows = failures._flags(["the same answer"] * 100)
    assert failures.excess(rows)["duplicate"] > 0.7


def test_other_peoples_names_are_not_style(tmp_path):
    from tests.evaluate.conftest import write_jsonl

    rows = []
    for i in range(120):
        rows.append({"messages": [{"role": "system", "content": "You are Joey, chatting with someone."},
                                  {"role": "user", "content": f"Chandler Bing: Joey, where is the {i} pizza?\n"
                                                              f"Monica Geller: Ask Pheebs about it, {i}."},
                                  {"role": "assistant", "content": f"Hey Chandler! Pheebs took it, dude. {i % 7}"}]})
    profile = load_profile(write_jsonl(tmp_path / "t.jsonl", rows))
    assert {"chandler", "joey", "pheebs", "monica"} <= profile.names
    assert not any(name in phrase for phrase in profile.catchphrases for name in ("chandler", "pheebs"))
    assert "dude" in profile.catchphrases


def test_parroting_the_context_is_no_better_than_ignoring_it(bound):
    from persona_lab.evaluate.metrics.context import context_text

    _, items, metrics = bound
    context = metrics["context"]
    parrot = [context_text(item.context) for item in items.items]  # the question, said back
    rows = context.rows(parrot, np.arange(items.n))
    assert context.fit_level(rows) > context.my_level + 0.2  # it "fits" its context better than I do...
    assert context.summarise(rows) < value(metrics, "context", items.replies, items) - 0.2  # ...and pays for it


def test_the_composite_metrics_named_in_the_config_are_the_score_metrics_registered():
    from persona_lab.config import COMPOSITE_METRICS
    from persona_lab.evaluate.metrics import METRICS

    roles = {name: METRICS.get(name).role for name in METRICS}
    assert sorted(n for n, role in roles.items() if role == "score") == sorted(COMPOSITE_METRICS)
    assert [n for n, role in roles.items() if role == "gate"] == ["failures"]

"""The offline converter: questions in the post's language, answers made of the author's sentences, lengths
that follow answer_chars, and the same output for the same input."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from persona_lab.blog.offline import (
    MAX_FACTOR,
    MIN_FACTOR,
    draw_target,
    offline_pairs,
    split_sentences,
    zh_keywords,
)
from persona_lab.blog.readers import read_post

from .conftest import BLOG, CJK, assert_author_sentences, template_patterns, write_long_post

POSTS = sorted(BLOG.iterdir())


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_answers_are_the_authors_sentences_and_never_code(path: Path, cache_dir: Path):
    post = read_post(path)
    pairs = offline_pairs(post, 80, cache_dir=cache_dir)
    assert len(pairs) >= 2
    for pair in pairs:
        assert_author_sentences(pair.answer, post.paragraphs)
        for code in ("def monthly_total", "return sum", "rm reading-log", "CODE-IN-HTML", "http", "```"):
            assert code not in pair.answer and code not in pair.question


def test_plain_text_answers_occur_verbatim_in_the_raw_file(cache_dir: Path):
    path = BLOG / "周末的菜市场.txt"
    raw = path.read_text(encoding="utf-8")
    for pair in offline_pairs(read_post(path), 40, cache_dir=cache_dir):
        for line in pair.answer.split("\n"):
            assert line in raw


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_questions_follow_a_template_of_the_posts_language(path: Path, cache_dir: Path):
    post = read_post(path)
    patterns = template_patterns(post.language)
    for pair in offline_pairs(post, 80, cache_dir=cache_dir):
        q = pair.question
        if post.language == "zh":
            assert CJK.search(q) and q.endswith(("？", "。")), q
        else:
            assert not CJK.search(q) and q.endswith(("?", ".")), q
        # A heading already phrased as a question ("为什么我放弃了公交") is asked back as it is.
        assert any(p.match(q) for p in patterns) or (pair.heading and q.rstrip("？?.") in _swapped(pair.heading)), q


def _swapped(heading: str) -> str:
    return heading.replace("我", "你") + " " + heading.lower().replace(" i ", " you ")


def test_first_question_is_about_the_title_and_headings_become_questions(cache_dir: Path):
    zh = offline_pairs(read_post(BLOG / "zh-commute.md"), 80, cache_dir=cache_dir)
    assert "《骑车通勤的第三年》" in zh[0].question
    assert "为什么你放弃了公交？" in [p.question for p in zh]
    en = offline_pairs(read_post(BLOG / "en-slow-reading.md"), 80, cache_dir=cache_dir)
    assert '"Reading slowly, on purpose"' in en[0].question
    assert any("why you stopped tracking numbers" in p.question for p in en)
    assert not any(" I " in p.question or " my " in p.question for p in en)  # told back to the author


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_keyword_questions_ask_about_words_of_their_answer(path: Path, cache_dir: Path):
    post = read_post(path)
    keyword_patterns = template_patterns(post.language, ("keyword", "two"))
    other_patterns = template_patterns(post.language, ("title", "heading", "wh_heading", "followup", "followup_heading"))
    checked = 0
    for pair in offline_pairs(post, 60, cache_dir=cache_dir):
        matches = [m for m in (p.match(pair.question) for p in keyword_patterns) if m]
        # "Tell me about {kw}." and "Tell me about your post …" overlap: one reading must have every keyword
        # of the question in the answer, or the question must be one of the other kinds.
        if any(all(_bare(kw) in pair.answer.lower() for kw in m.groups()) for m in matches):
            checked += 1
        else:
            asked_back = pair.heading and pair.question.rstrip("？?") in _swapped(pair.heading)
            assert asked_back or any(p.match(pair.question) for p in other_patterns), pair
    assert checked >= 1


def _bare(keyword: str) -> str:
    # English topics carry a determiner told back to the author ("my phone" -> "your phone").
    return re.sub(r"^(?:the|your|his|her|their|its|this|that|these|those|every|each|some|another) ", "",
                  keyword.lower())


def test_zh_keywords_come_from_jieba_and_skip_function_words_and_counts(cache_dir: Path):
    text = "骑车虽然慢一点，但每天出门的时间是确定的。我受不了车厢里的闷热，公交车太挤了。"
    words = zh_keywords(text, cache_dir)
    assert words and all(w in text for w in words)
    assert any(w in words for w in ("车厢", "公交车", "闷热"))
    counted = zh_keywords("我们一共骑了五千公里，花了三年。我们觉得五千公里不算多，三年也不算长。", cache_dir)
    assert not {"我们", "五千公里", "三年", "觉得"} & set(counted)


def test_question_language_can_be_forced(cache_dir: Path):
    post = read_post(BLOG / "zh-commute.md")
    pairs = offline_pairs(post, 80, language="en", cache_dir=cache_dir)
    patterns = template_patterns("en")
    assert all(any(p.match(pair.question) for p in patterns) for pair in pairs), [p.question for p in pairs]
    assert all(CJK.search(pair.answer) for pair in pairs)  # the answers stay the author's


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("answer_chars", [40, 100, 220])
def test_answer_lengths_track_answer_chars(tmp_path: Path, cache_dir: Path, language: str, answer_chars: int):
    post = read_post(write_long_post(tmp_path / f"long-{language}.md", language, sections=12))
    lengths = [len(p.answer) for p in offline_pairs(post, answer_chars, cache_dir=cache_dir)]
    assert len(lengths) >= 10
    median = statistics.median(lengths)
    assert 0.6 * answer_chars <= median <= 1.4 * answer_chars, (median, lengths)
    # A distribution, not one length: chat replies vary.
    assert max(lengths) >= 1.3 * min(lengths)


def test_target_draws_are_lognormal_around_answer_chars_and_clipped():
    draws = [draw_target(f"chunk {i}", 100) for i in range(2000)]
    assert 90 <= statistics.median(draws) <= 110
    assert min(draws) >= MIN_FACTOR * 100 and max(draws) <= MAX_FACTOR * 100
    assert statistics.quantiles(draws, n=10)[-1] >= 130  # p90 well above the median: a real spread
    assert draw_target("same", 100) == draw_target("same", 100)


def test_sentences_are_not_cut_unless_longer_than_twice_the_target(tmp_path: Path, cache_dir: Path):
    long_sentence = "我想说的是" + "，".join(["这条路我走了很多年"] * 12) + "。"
    path = tmp_path / "cut.md"
    path.write_text(f"# 标题\n\n开头一句。第二句也很短。\n\n{long_sentence}\n\n最后一句话。\n", encoding="utf-8")
    post = read_post(path)
    answer_chars = 30
    pairs = offline_pairs(post, answer_chars, cache_dir=cache_dir)
    for pair in pairs:
        assert_author_sentences(pair.answer, post.paragraphs)
        for line in pair.answer.split("\n"):
            para = next(p for p in post.paragraphs if line in p)
            starts = {s for s, _ in split_sentences(para)}
            ends = {e for _, e in split_sentences(para)}
            start = para.index(line)
            whole = start in starts and start + len(line) in ends
            # Only the sentence longer than 2 × the largest possible target may be cut, and only at a comma.
            assert whole or (line in long_sentence and line.endswith(("，", "。"))), line
    pieces = [line for p in pairs for line in p.answer.split("\n") if line in long_sentence]
    assert len(pieces) >= 2 and "".join(pieces) == long_sentence


def test_split_sentences_keeps_decimals_and_closing_quotes():
    text = "他说：“走吧！”然后我们走了。Pi is 3.14, roughly. Really? Yes."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "他说：“走吧！”", "然后我们走了。", "Pi is 3.14, roughly.", "Really?", "Yes.",
    ]


def test_max_pairs_keeps_the_title_question_and_spreads_over_the_post(cache_dir: Path):
    post = read_post(BLOG / "en-slow-reading.md")
    every = offline_pairs(post, 60, cache_dir=cache_dir)
    three = offline_pairs(post, 60, max_pairs=3, cache_dir=cache_dir)
    assert len(every) > 3 and len(three) == 3
    assert three[0] == every[0] and three[-1] == every[-1]


def test_same_input_same_output(cache_dir: Path):
    post = read_post(BLOG / "zh-commute.md")
    assert offline_pairs(post, 70, cache_dir=cache_dir) == offline_pairs(read_post(BLOG / "zh-commute.md"), 70,
                                                                         cache_dir=cache_dir)
    assert offline_pairs(post, 70, cache_dir=cache_dir) != offline_pairs(post, 140, cache_dir=cache_dir)


def test_headings_are_asked_back_to_the_author(tmp_path: Path, cache_dir: Path):
    path = tmp_path / "heads.md"
    path.write_text(
        "# 杂记\n\n开头先随便写几句话。\n\n## 我的第一辆车\n\n那是一辆很旧的自行车，但我骑了很多年。\n\n"
        "## 我们为什么搬家\n\n因为房租涨了，而且离公司太远。\n", encoding="utf-8")
    questions = [p.question for p in offline_pairs(read_post(path), 60, cache_dir=cache_dir)]
    assert any("你的第一辆车" in q for q in questions) and "你们为什么搬家？" in questions
    assert not any("我" in q for q in questions)

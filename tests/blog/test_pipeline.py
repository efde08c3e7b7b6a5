"""blog_to_qa / blog2qa_files: sample shape, accounting, skips named and counted, scrub, settings, data card."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from persona_lab.blog import BlogInputError, blog2qa_files, blog_to_qa, write_blog_section
from persona_lab.blog.readers import read_post
from persona_lab.config import Blog2QASettings

from .conftest import BLOG, CJK, assert_author_sentences

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def blog_with_bad_inputs(tmp_path: Path) -> tuple[list[Path], Path]:
    """The fixture posts plus one of each bad input, in a folder; and a separate folder with no posts."""
    folder = tmp_path / "blog"
    shutil.copytree(BLOG, folder)
    (folder / "gb.md").write_bytes("# 旧文章\n\n这是很多年前用GBK写的文章。那时候我还在上大学，每天都去图书馆。\n".encode("gb18030"))
    (folder / "broken.md").write_bytes(b"\x00\x01\x02\x03binary\x00")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.html").write_text("<html><body><nav>menu</nav><script>x()</script></body></html>", encoding="utf-8")
    (folder / "tiny.txt").write_text("好。\n", encoding="utf-8")
    no_posts = tmp_path / "drafts"
    no_posts.mkdir()
    (no_posts / "idea.docx").write_bytes(b"PK")
    return [folder, no_posts, tmp_path / "missing"], folder


def test_accounting_every_input_counted_and_named(blog_with_bad_inputs, cache_dir: Path):
    paths, _ = blog_with_bad_inputs
    report = blog_to_qa(paths, Blog2QASettings(), cache_dir=cache_dir).report
    assert report["read"] == report["kept"] + sum(report["dropped"].values())
    assert report["kept"] == 5  # four fixtures and the GB18030 post
    assert report["dropped"] == {"undecodable": 1, "empty": 1, "no_text": 1, "no_pairs": 1, "no_posts": 1,
                                 "not_found": 1}
    errors = {Path(f["file"]).name: f["error"] for f in report["files"] if "error" in f}
    assert set(errors) == {"broken.md", "empty.txt", "blank.html", "tiny.txt", "drafts", "missing"}
    for name, message in errors.items():
        assert name in message
    assert sum(f["pairs"] for f in report["files"]) == report["pairs"] > 0


def test_samples_have_the_training_shape(cache_dir: Path):
    samples = blog_to_qa([BLOG], Blog2QASettings(), cache_dir=cache_dir).samples
    ids = [s["id"] for s in samples]
    assert len(set(ids)) == len(ids)
    posts = {p.name: read_post(p) for p in BLOG.iterdir()}
    for sample in samples:
        assert set(sample) == {"id", "source", "facet", "ts", "post", "messages"}
        assert sample["source"] == "blog" and sample["facet"] == "blog"
        assert [m["role"] for m in sample["messages"]] == ["user", "assistant"]
        post = posts[sample["post"]]
        assert sample["ts"] == post.date
        assert sample["id"].startswith("blog-") and sample["id"].rsplit("-", 1)[1].isdigit()
        assert_author_sentences(sample["messages"][1]["content"], post.paragraphs)
    by_post = {s["post"]: s for s in reversed(samples)}
    assert by_post["zh-commute.md"]["id"] == "blog-zh-commute-1" and by_post["zh-commute.md"]["ts"] == "2021-04-18"
    assert by_post["周末的菜市场.txt"]["ts"] is None


def test_questions_in_each_posts_language_unless_forced(cache_dir: Path):
    auto = blog_to_qa([BLOG], Blog2QASettings(), cache_dir=cache_dir).samples
    for sample in auto:
        zh_post = sample["post"] in ("zh-commute.md", "周末的菜市场.txt")
        assert bool(CJK.search(sample["messages"][0]["content"])) == zh_post, sample
    forced = blog_to_qa([BLOG / "en-slow-reading.md"], Blog2QASettings(language="zh"), cache_dir=cache_dir).samples
    assert all(CJK.search(s["messages"][0]["content"]) for s in forced)


def test_scrub_applies_to_questions_and_answers(cache_dir: Path):
    seen: list[str] = []

    def scrub(text: str) -> str:
        seen.append(text)
        return text.replace("公交", "<PLACE>").replace("phone", "<DEVICE>")

    samples = blog_to_qa([BLOG], Blog2QASettings(), scrub=scrub, cache_dir=cache_dir).samples
    texts = [m["content"] for s in samples for m in s["messages"]]
    assert not any("公交" in t or "phone" in t for t in texts)
    assert "为什么你放弃了<PLACE>？" in texts  # a question
    assert any("<DEVICE>" in t for t in texts) and any("<PLACE>" in s["messages"][1]["content"] for s in samples)
    assert len(seen) == len(texts)


def test_answer_chars_priority(cache_dir: Path):
    def target(settings: Blog2QASettings, target_chars: int | None) -> int:
        report = blog_to_qa([BLOG / "zh-commute.md"], settings, target_chars=target_chars, cache_dir=cache_dir).report
        return report["answer_chars"]["target"]

    assert target(Blog2QASettings(answer_chars=50), 300) == 50
    assert target(Blog2QASettings(), 300) == 300
    assert target(Blog2QASettings(), None) == 120


def test_longer_answer_chars_give_longer_answers(cache_dir: Path):
    short = blog_to_qa([BLOG], Blog2QASettings(answer_chars=40), cache_dir=cache_dir).report
    long = blog_to_qa([BLOG], Blog2QASettings(answer_chars=150), cache_dir=cache_dir).report
    assert short["answer_chars"]["median"] < long["answer_chars"]["median"]
    assert short["pairs"] > long["pairs"]


def test_max_pairs_per_post(cache_dir: Path):
    report = blog_to_qa([BLOG], Blog2QASettings(answer_chars=30, max_pairs_per_post=3), cache_dir=cache_dir).report
    assert [f["pairs"] for f in report["files"]] == [3, 3, 3, 3]


def test_blog2qa_files_writes_jsonl_and_is_reproducible_across_processes(tmp_path: Path, cache_dir: Path):
    out = tmp_path / "out" / "blog_train.jsonl"
    report = blog2qa_files([BLOG], out, Blog2QASettings(), target_chars=90, cache_dir=cache_dir)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == report["pairs"] and report["out"] == str(out)
    assert json.loads(lines[0])["source"] == "blog"
    # Another process, another hash seed, a cold jieba: the same bytes.
    other = tmp_path / "other.jsonl"
    code = (
        "import sys; from pathlib import Path; from persona_lab.blog import blog2qa_files; "
        "from persona_lab.config import Blog2QASettings; "
        "blog2qa_files([Path(sys.argv[1])], Path(sys.argv[2]), Blog2QASettings(), 90, cache_dir=Path(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(BLOG), str(other), str(tmp_path / "cold-cache")],
                   check=True, cwd=ROOT, env=env, capture_output=True)
    assert other.read_bytes() == out.read_bytes()


def test_data_card_section(blog_with_bad_inputs, cache_dir: Path):
    paths, _ = blog_with_bad_inputs
    report = blog_to_qa(paths, Blog2QASettings(), target_chars=100, cache_dir=cache_dir).report
    section = write_blog_section(report)
    assert section.startswith("## Blog posts")
    assert f"Posts read: **{report['read']}**; kept: **5**; dropped: **6**" in section
    assert "undecodable: 1" in section and "no_posts: 1" in section
    assert f"Q&A pairs: **{report['pairs']}**" in section
    assert f"median {report['answer_chars']['median']}" in section and "target 100" in section
    assert section.count("> **Q:**") == 3 and section.count("> **A:**") == 3
    assert "`broken.md` (undecodable)" in section
    assert all(len(e["answer"]) <= 160 for e in report["examples"])


def test_empty_run_is_reported_not_silent(tmp_path: Path, cache_dir: Path):
    (tmp_path / "a.md").write_text("", encoding="utf-8")
    result = blog_to_qa([tmp_path], Blog2QASettings(), cache_dir=cache_dir)
    assert result.samples == []
    assert result.report["read"] == 1 and result.report["dropped"] == {"empty": 1}
    assert "(no pairs made)" in write_blog_section(result.report)
    with pytest.raises(BlogInputError):
        read_post(tmp_path / "a.md")

"""Reading posts: Markdown, HTML and text; front matter, code, links and boilerplate; encodings; bad input."""

from __future__ import annotations

import codecs
import subprocess
import sys
from pathlib import Path

import pytest

from persona_lab.blog.readers import BlogInputError, iter_post_paths, read_post

from .conftest import BLOG

ZH_MD = BLOG / "zh-commute.md"
EN_MD = BLOG / "en-slow-reading.md"
HTML = BLOG / "night-market.html"
TXT = BLOG / "周末的菜市场.txt"


# Fine in the first 64 KiB that decide the encoding, bad further on.
LATE_GARBAGE = ("# T\n\n" + "这是正文。" * 5000).encode() + b"\n\xff\xfe\x81 bad\n"
NO_TEXT_HTML = (b"<html><head><script>var a=1;</script><style>p{}</style></head>"
                b"<body><nav>Home</nav><div> </div><footer>(c)</footer></body></html>")


def all_text(post) -> str:
    return "\n".join([post.title, *(s.heading or "" for s in post.sections), *post.paragraphs])


def test_markdown_front_matter_is_metadata_not_text():
    post = read_post(ZH_MD)
    assert post.title == "骑车通勤的第三年"
    assert post.date == "2021-04-18"
    text = all_text(post)
    assert "secret_note" not in text and "前言里的元数据" not in text and "tags" not in text
    # The leading H1 repeats the title: it is the title, not a section.
    assert [s.heading for s in post.sections] == [None, "为什么我放弃了公交", "装备其实不重要", "我怎么记录里程", "下一步"]


def test_markdown_code_images_quotes_and_link_urls_are_removed_link_text_kept():
    post = read_post(ZH_MD)
    text = all_text(post)
    assert "def monthly_total" not in text and "return sum" not in text and "代码不应该出现" not in text
    assert "花三百块买的" in text and "二手市场" in text and "这个表格" in text
    assert "example.com" not in text and "http" not in text and "](" not in text
    assert "我的车" not in text and "bike.jpg" not in text  # image alt text and file
    assert "骑车的人不会老" not in text  # a block quote: someone else's words
    assert "monthly_total" in text and "`" not in text  # inline code keeps its word, loses its backticks


def test_markdown_soft_line_breaks_join_like_the_rendered_page(tmp_path: Path):
    path = tmp_path / "wrap.md"
    path.write_text("第一行写到一半\n接着写完。\n\nA sentence that\nwraps here.\n", encoding="utf-8")
    assert read_post(path).paragraphs == ["第一行写到一半接着写完。", "A sentence that wraps here."]


def test_english_markdown_with_iso_datetime_and_lists():
    post = read_post(EN_MD)
    assert post.title == "Reading slowly, on purpose" and post.language == "en"
    assert post.date == "2022-09-03T08:30:00+02:00"
    assert "rm reading-log.csv" not in all_text(post)
    assert "Essays, because every paragraph is an argument and deserves a second look." in post.paragraphs
    assert "I kept a reading log for six years." in post.paragraphs[4]


def test_html_boilerplate_removed_article_read():
    post = read_post(HTML)
    text = all_text(post)
    for junk in ("TRACKING-SCRIPT-TEXT", "SITE-HEADER-TAGLINE", "NAV-ABOUT-LINK", "ASIDE-RELATED-POSTS",
                 "FOOTER-COPYRIGHT", "CODE-IN-HTML", "ALT-TEXT-LANTERNS", "FIGCAPTION-TEXT", "font-family",
                 "Field notes", "example.net"):
        assert junk not in text, junk
    assert post.title == "The night market on Fifth Street"
    assert post.date == "2023-06-10"
    assert [s.heading for s in post.sections] == [None, "Why I go alone", "What I would change"]
    assert "a woman selling oolong tea told me" in text


def test_html_title_from_title_tag_and_text_in_divs(tmp_path: Path):
    path = tmp_path / "plain.html"
    path.write_text(
        "<html><head><title>Rainy Sundays | My blog</title></head><body><nav>Home About</nav>"
        "<div>I like rainy Sundays.</div><div>The city is <b>quiet</b> and I can think.</div></body></html>",
        encoding="utf-8",
    )
    post = read_post(path)
    assert post.title == "Rainy Sundays"
    assert post.paragraphs == ["I like rainy Sundays.", "The city is quiet and I can think."]


def test_text_post_title_and_paragraphs():
    post = read_post(TXT)
    assert post.title == "周末的菜市场" and post.language == "zh" and post.date is None
    assert len(post.paragraphs) == 3
    assert post.paragraphs[1].startswith("卖豆腐的阿姨记得我每次只买半块。")


def test_text_post_without_a_title_line_uses_the_file_name(tmp_path: Path):
    path = tmp_path / "2020-02-02-late-night-thoughts.txt"
    path.write_text("It is late and I cannot sleep, so I write.\n\nTomorrow will be fine.\n", encoding="utf-8")
    post = read_post(path)
    assert post.title == "late night thoughts"
    assert post.date == "2020-02-02"
    assert post.paragraphs[0] == "It is late and I cannot sleep, so I write."


def test_gb18030_and_utf8_bom_posts_read_fine(tmp_path: Path):
    source = ZH_MD.read_text(encoding="utf-8")
    gb = tmp_path / "gb.md"
    gb.write_bytes(source.encode("gb18030"))
    bom = tmp_path / "bom.md"
    bom.write_bytes(codecs.BOM_UTF8 + source.encode("utf-8"))
    expected = read_post(ZH_MD)
    for path, encoding in ((gb, "gb18030"), (bom, "utf-8-sig")):
        post = read_post(path)
        assert post.encoding == encoding
        assert (post.title, post.date, post.sections) == (expected.title, expected.date, expected.sections)


@pytest.mark.parametrize(
    ("name", "data", "reason", "words"),
    [
        ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "undecodable", "binary"),
        ("late-garbage.md", LATE_GARBAGE, "undecodable", "at byte"),
        ("utf16.md", "你好".encode("utf-16"), "undecodable", "UTF-16"),
        ("zero.md", b"", "empty", "empty"),
        ("blank.txt", b" \n\n\t\n", "empty", "empty"),
        ("bom-only.md", codecs.BOM_UTF8, "empty", "empty"),
        ("only-front.md", b"---\ntitle: x\n---\n\n```\ncode only\n```\n", "no_text", "no prose"),
        ("no-text.html", NO_TEXT_HTML, "no_text", "HTML"),
        ("notes.docx", b"PK\x03\x04 not a post", "unsupported", ".docx"),
    ],
)
def test_bad_posts_raise_a_clear_error_naming_the_file(tmp_path: Path, name, data, reason, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BlogInputError) as info:
        read_post(path)
    assert isinstance(info.value, ValueError)
    assert info.value.reason == reason
    assert str(path) in str(info.value) and words in str(info.value)


def test_iter_post_paths_recursive_sorted_filtered(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/2.md", "a.HTML", "c.txt", "b/1.markdown", "skip.docx", ".hidden.md", ".git/x.md", "d.htm"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_post_paths([tmp_path])]
    assert found == ["a.HTML", "b/1.markdown", "b/2.md", "c.txt", "d.htm"]
    # A file given by name is taken as it is (read_post then says whether it can be read).
    assert list(iter_post_paths([tmp_path / "skip.docx"])) == [tmp_path / "skip.docx"]


def test_folder_without_posts_and_missing_path_raise(tmp_path: Path):
    empty = tmp_path / "drafts"
    empty.mkdir()
    (empty / "todo.docx").write_bytes(b"x")
    with pytest.raises(BlogInputError, match="no blog posts in this folder") as info:
        list(iter_post_paths([empty]))
    assert info.value.reason == "no_posts" and str(empty) in str(info.value)
    with pytest.raises(BlogInputError, match="no such file") as info:
        list(iter_post_paths([tmp_path / "missing"]))
    assert info.value.reason == "not_found"


def test_importing_the_package_loads_no_heavy_library():
    code = ("import sys, persona_lab.blog; "
            "print(sorted(m for m in ('jieba', 'bs4', 'openai', 'markdown_it', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""Reading blog posts: Markdown, HTML and plain text into a title, a date, a language and sections of prose.

What is kept is only what the author wrote as prose: paragraphs and list items, grouped under their headings.
Front matter (YAML ``---`` or TOML ``+++``) is parsed for ``title`` and ``date`` and never shown as text.
Code blocks, tables, images, inline HTML, link URLs and bare URLs are dropped (a link's text is kept).
Block quotes are dropped too: on a blog they mostly quote someone else, and answers must be the author's
words.
HTML pages lose scripts, styles, navigation, headers, footers and asides; ``<article>`` or ``<main>`` is read
when present.

Limits: reStructuredText, Org and Word files are not read (an "unsupported" error says so); the language is
one per post ("zh" or "en", decided by the share of CJK characters); Markdown extensions beyond CommonMark
tables and strikethrough are read as plain text, and raw HTML blocks inside Markdown are dropped; an HTML
page with several ``<article>`` elements (an index page) is read from the first one only. The encoding is
UTF-8, UTF-8 with a BOM or GB18030; anything else is charset-normalizer's guess, which can be wrong for
short Latin-1 texts.

Every file that cannot be used raises ``BlogInputError`` whose message names the file and the reason, and
whose ``reason`` is a short word the caller counts ("empty", "undecodable", "no_text", "unsupported", ...).
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persona_lab.errors import ExportError, PersonaLabError
from persona_lab.textio import SNIFF_BYTES, detect_encoding

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = frozenset({".txt"})
POST_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES

# Reasons a post is skipped; they are also the keys of the report's "dropped" counts.
EMPTY = "empty"
UNDECODABLE = "undecodable"
NO_TEXT = "no_text"
UNSUPPORTED = "unsupported"
NOT_FOUND = "not_found"
NO_POSTS = "no_posts"
UNREADABLE = "unreadable"

# A post is Chinese when at least this share of its letters are CJK characters. English words in Chinese
# prose count one per letter, so the bar is well below one half.
ZH_CJK_SHARE = 0.25

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_LATIN_RE = re.compile(r"[A-Za-z]")
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]{}\u3000-\u303f\uff00-\uffef]+")
_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
# A space between two CJK characters comes from a line wrap in the source, not from the author.
_CJK_GAP_RE = re.compile(f"(?<=[{_CJK}\u3000-\u303f\uff00-\uffef]) (?=[{_CJK}\u3000-\u303f\uff00-\uffef])")
_YAML_FRONT = re.compile(
    r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.DOTALL | re.MULTILINE
)
_TOML_FRONT = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)(?:\r?\n)?^\+\+\+[ \t]*$\r?\n?", re.DOTALL | re.MULTILINE)
_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
# Control characters other than tab/newline: more than a few means the bytes were not text after all.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
MAX_CONTROL_SHARE = 0.01


class BlogInputError(PersonaLabError, ValueError):
    """A post (or a blog input path) that cannot be used; the message names the file and why."""

    hint = "give Markdown, HTML or text post files (UTF-8 or GB18030)"

    def __init__(self, path: Path, reason: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.reason = reason


@dataclass
class Section:
    """Prose under one heading; ``heading`` is None for text before the first heading."""

    heading: str | None
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Post:
    path: Path
    title: str
    date: str | None  # ISO date or datetime from the front matter (or a Jekyll-style file name), else None
    language: str  # "zh" or "en"
    sections: list[Section]
    encoding: str = "utf-8"

    @property
    def paragraphs(self) -> list[str]:
        return [p for section in self.sections for p in section.paragraphs]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# --- finding posts -------------------------------------------------------------------------------------


def iter_post_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Post files in ``paths``: files as given, folders searched recursively for post suffixes, sorted.

    Hidden files and folders (``.git``, ``.DS_Store``) are skipped. A folder without any post, or a path that
    does not exist, raises ``BlogInputError`` naming it.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in POST_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise BlogInputError(
                    path, NO_POSTS,
                    f"no blog posts in this folder (looked for {', '.join(sorted(POST_SUFFIXES))})",
                )
            yield from found
        elif path.is_file():
            yield path
        else:
            raise BlogInputError(path, NOT_FOUND, "no such file or folder")


# --- reading one post ----------------------------------------------------------------------------------


def read_post(path: str | Path) -> Post:
    """Read one post; raise ``BlogInputError`` (naming the file) when it has no usable prose."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POST_SUFFIXES:
        known = ", ".join(sorted(POST_SUFFIXES))
        why = f"unsupported file type '{suffix or '(none)'}' (read: {known})"
        raise BlogInputError(path, UNSUPPORTED, why)
    text, encoding = _decode(path)
    meta, body = _split_front_matter(text, path)
    if suffix in MARKDOWN_SUFFIXES:
        title, date, sections = _parse_markdown(body)
    elif suffix in HTML_SUFFIXES:
        title, date, sections = _parse_html(body)
    else:
        title, date, sections = _parse_text(body)
    sections = [s for s in sections if s.paragraphs]
    if not sections:
        if suffix in HTML_SUFFIXES:
            what = "the HTML page has no text outside scripts, styles, navigation and code"
        else:
            what = "no prose left after removing front matter, code and markup"
        raise BlogInputError(path, NO_TEXT, what)
    title = _clean_inline(str(meta.get("title") or "")) or title or _title_from_name(path)
    date = _iso_date(meta.get("date")) or date or _date_from_name(path)
    headings = [s.heading or "" for s in sections]
    language = detect_language(" ".join([title, *headings, *(p for s in sections for p in s.paragraphs)]))
    return Post(path=path, title=title, date=date, language=language, sections=sections, encoding=encoding)


def detect_language(text: str) -> str:
    """'zh' when CJK characters are at least ``ZH_CJK_SHARE`` of the letters, else 'en'."""
    cjk = len(_CJK_RE.findall(text))
    latin = len(_LATIN_RE.findall(text))
    if cjk + latin == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= ZH_CJK_SHARE else "en"


def _decode(path: Path) -> tuple[str, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BlogInputError(path, UNREADABLE, f"cannot read the file: {exc.strerror or exc}") from None
    if not raw.strip() or raw.strip() == codecs.BOM_UTF8:
        raise BlogInputError(path, EMPTY, "the file is empty")
    try:
        encoding = detect_encoding(path, raw[:SNIFF_BYTES])
    except ExportError as exc:
        why = str(exc).removeprefix(f"{path}: ")
        why = why.replace("chat export", "blog post").replace("the export", "the file")
        raise BlogInputError(path, UNDECODABLE, f"cannot decode the text: {why}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        # The encoding was guessed from the first 64 KiB; a post is small, so decode it whole and say where.
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        raise BlogInputError(path, UNDECODABLE, f"cannot decode the text as {encoding}{where}") from None
    text = text.lstrip("\ufeff")
    if len(_CONTROL_RE.findall(text)) > MAX_CONTROL_SHARE * len(text):
        # charset-normalizer accepts almost any bytes; control characters show they were not text.
        why = f"cannot decode the text (as {encoding} it is mostly control characters)"
        raise BlogInputError(path, UNDECODABLE, why)
    if not text.strip():
        raise BlogInputError(path, EMPTY, "the file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """(metadata, body). Malformed front matter is still removed from the text, only its values are lost."""
    for pattern, loader in ((_YAML_FRONT, _load_yaml), (_TOML_FRONT, _load_toml)):
        match = pattern.match(text)
        if match:
            try:
                meta = loader(match.group(1))
            except Exception as exc:  # noqa: BLE001 - any parser error: keep the post, drop its metadata
                log.warning("%s: front matter is not valid (%s); its title and date are ignored", path, exc)
                meta = {}
            return (meta if isinstance(meta, dict) else {}), text[match.end():]
    return {}, text


def _load_yaml(text: str) -> Any:
    import yaml  # lazy: only posts with front matter need it

    return yaml.safe_load(text)


def _load_toml(text: str) -> Any:
    import tomllib

    return tomllib.loads(text)


def _iso_date(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        value = value.strip()
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value).isoformat()
            return dt.datetime.fromisoformat(value).isoformat()
        except ValueError:
            match = _DATE_PREFIX.match(value)
            return _valid_date(*match.groups()) if match else None
    return None


def _valid_date(year: str, month: str, day: str) -> str | None:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _date_from_name(path: Path) -> str | None:
    # Jekyll and Hexo name posts "2021-03-04-title.md": the date is there even without front matter.
    match = _DATE_PREFIX.match(path.stem)
    return _valid_date(*match.groups()) if match else None


def _title_from_name(path: Path) -> str:
    stem = _DATE_PREFIX.sub("", path.stem).strip("-_ ")
    return re.sub(r"[-_]+", " ", stem).strip() or path.stem


def _clean_inline(text: str) -> str:
    """Prose as a reader sees it: no bare URLs, single spaces, no line-wrap spaces between CJK characters."""
    text = _URL_RE.sub("", text)
    lines = [_SPACE_RE.sub(" ", line).strip() for line in text.split("\n")]
    joined = ""
    for line in lines:
        if not line:
            continue
        joined = f"{joined} {line}" if joined else line
    joined = _CJK_GAP_RE.sub("", joined)
    # Removing a URL can leave "see  (" or "：，"; tidy the space it left, keep the author's punctuation.
    joined = re.sub(r" +([,.;:!?，。；：！？、)）])", r"\1", joined)
    joined = re.sub(r"[(（]\s*[)）]", "", joined)
    return _SPACE_RE.sub(" ", joined).strip()


def _has_words(text: str) -> bool:
    return bool(re.search(rf"[{_CJK}A-Za-z0-9]", text))


# --- Markdown ------------------------------------------------------------------------------------------


def _parse_markdown(body: str) -> tuple[str | None, str | None, list[Section]]:
    from markdown_it import MarkdownIt  # lazy: markdown-it-py comes with rich, but only readers need it

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(body)
    sections = [Section(None)]
    title: str | None = None
    quote_depth = 0
    block: str | None = None  # "p" or "h1".."h6": what the next inline token is
    seen_prose = False
    for token in tokens:
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "paragraph_open":
            block = "p" if quote_depth == 0 else None
        elif token.type == "heading_open":
            block = token.tag if quote_depth == 0 else None
        elif token.type == "inline" and block is not None:
            text = _clean_inline(_markdown_inline(token.children or []))
            if block == "p":
                if _has_words(text):
                    sections[-1].paragraphs.append(text)
                    seen_prose = True
            elif block == "h1" and title is None and not seen_prose:
                title = text  # a leading H1 is the post's title, not a section
            elif text:
                sections.append(Section(text))
            block = None
        # fence, code_block, html_block, table cells, hr: not prose, skipped.
    return title, None, sections


def _markdown_inline(children: list[Any]) -> str:
    parts: list[str] = []
    in_autolink = False
    for child in children:
        if child.type == "link_open":
            # An autolink's text is its URL: drop it with the markup.
            in_autolink = child.markup == "autolink"
        elif child.type == "link_close":
            in_autolink = False
        elif child.type in ("text", "code_inline") and not in_autolink:
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        # image (alt text), html_inline tags, emphasis markers: markup, not words.
    return "".join(parts)


# --- HTML ----------------------------------------------------------------------------------------------

_BOILERPLATE = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
                "iframe", "svg", "canvas", "button", "select", "pre", "figure", "blockquote"]
_FALLBACK_BLOCKS = ["div", "section", "td", "th", "tr", "center"]
_HTML_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dd", "dt"]


def _parse_html(body: str) -> tuple[str | None, str | None, list[Section]]:
    from bs4 import BeautifulSoup, Comment  # lazy: only HTML posts need it

    soup = BeautifulSoup(body, "html.parser")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    # The title is found before boilerplate goes: an article's own <header> often holds its <h1>.
    h1 = root.find("h1")
    title = _clean_inline(h1.get_text()) if h1 else None
    if not title and soup.title:
        title = _strip_site_name(_clean_inline(soup.title.get_text()))
    date = _html_date(soup, root)
    for comment in root.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in root.find_all(_BOILERPLATE):
        tag.decompose()
    for br in root.find_all("br"):
        br.replace_with("\n")

    sections = [Section(None)]
    blocks = root.find_all(_HTML_BLOCKS)
    for block in blocks:
        if block.find_parent(["p", "li", "dd", "dt"]) is not None:
            continue  # its text is already in the enclosing block
        text = _clean_inline(block.get_text())
        if block.name.startswith("h") and block.name[1:].isdigit():
            if text and not (block.name == "h1" and text == title):
                sections.append(Section(text))
        elif _has_words(text):
            sections[-1].paragraphs.append(text)
    if not any(s.paragraphs for s in sections):
        # Pages that put prose straight into <div>s: a line per block element, inline elements stay inline.
        for tag in root.find_all(_FALLBACK_BLOCKS):
            tag.insert_before("\n")
            tag.insert_after("\n")
        lines = [_clean_inline(line) for line in root.get_text().split("\n")]
        sections = [Section(None, [line for line in lines if _has_words(line) and line != title])]
    return title, date, sections


def _strip_site_name(title: str) -> str:
    # "My post | Joey's blog" -> "My post"
    for sep in (" | ", " - ", " — ", " – ", " _ "):
        if sep in title:
            return title.split(sep)[0].strip()
    return title


def _html_date(soup: Any, root: Any) -> str | None:
    meta = soup.find("meta", attrs={"property": "article:published_time"})
    if meta and meta.get("content"):
        return _iso_date(meta["content"])
    time = root.find("time", attrs={"datetime": True})
    return _iso_date(time["datetime"]) if time else None


# --- plain text ----------------------------------------------------------------------------------------

MAX_TEXT_TITLE_CHARS = 60


def _parse_text(body: str) -> tuple[str | None, str | None, list[Section]]:
    blocks = [b.strip() for b in re.split(r"\n[ \t\u3000]*\n", body) if b.strip()]
    title = None
    if len(blocks) > 1 and _looks_like_title(blocks[0]):
        title = _clean_inline(blocks.pop(0))
    paragraphs = [text for text in (_clean_inline(b) for b in blocks) if _has_words(text)]
    return title, None, [Section(None, paragraphs)]


def _looks_like_title(block: str) -> bool:
    if "\n" in block or len(block) > MAX_TEXT_TITLE_CHARS:
        return False
    return not re.search(r"[。！？.!?，,；;：:]$", block)

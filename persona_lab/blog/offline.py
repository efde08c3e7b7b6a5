"""Offline blog → Q&A: questions from templates, answers made only of the author's own sentences.

How a post becomes pairs:
  1. Each section (prose under one heading) is split into sentences (on 。！？!?… and on a full stop
     before a space).
  2. Consecutive sentences are grouped into chunks whose length tracks a target drawn for that chunk from a
     lognormal around ``answer_chars`` (median ``answer_chars``, spread ``sigma``, clipped to 0.4–2.5×). The
     draw is seeded by a hash of the chunk's text, so the same post always gives the same pairs. A sentence is
     cut (at a comma, else a space, else hard) only when it alone exceeds twice the target.
  3. Each chunk is one pair: the answer is the chunk, verbatim (paragraphs joined by a newline); the question
     comes from the post's title (first chunk), the section heading (first chunk of a section), or the chunk's
     key phrases (jieba TF-IDF for Chinese, stopword-filtered TF-IDF over the post's chunks for English), in
     the post's language, with a template chosen by the chunk hash.

Limits: questions are templates, not understanding — they are natural but generic ("你怎么看{kw}？",
"What do you think about {kw}?"); a chunk is never longer than its section, so very short sections give short
answers; answers keep the author's punctuation, including a trailing comma when a long sentence had to be cut.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from persona_lab.blog.readers import Post

DEFAULT_SIGMA = 0.35  # lognormal spread of answer lengths: about two thirds of answers within ×0.7–×1.4
MIN_FACTOR, MAX_FACTOR = 0.4, 2.5  # clip of a drawn target, as a multiple of answer_chars
MIN_ANSWER_WORD_CHARS = 6  # letters/CJK characters an answer needs at least ("好。" is not an answer)
PARAGRAPH_FACTOR = 0.75  # past this × target, a chunk does not reach into the next paragraph
TAIL_FACTOR = 0.3  # a section's remainder shorter than this × target joins the chunk before it

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_CHAR = re.compile(f"[{_CJK}A-Za-z0-9]")
# A sentence ends at 。！？!?… (with any closing quotes), or at a full stop followed by a space or the end.
# "3.14" and "v1.2" are not split; "e.g. this" is (rare in prose, and harmless: both halves are the author's).
_SENTENCE_END = re.compile(r"(?:[。！？!?…]+|\.(?=\s|$))[”’\"'」』）)\]]*")
_CLAUSE_END = re.compile(r"[，,；;：:、—]")
_HEADING_NUMBER = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*[.、)）]?\s+|\d+[.、)）]\s*|[一二三四五六七八九十]+[、.]\s*"
    r"|第[一二三四五六七八九十\d]+[章节部分篇][:：、\s]*|[(（][一二三四五六七八九十\d]+[)）]\s*)"
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    heading: str | None = None


@dataclass
class Chunk:
    """Consecutive text of one section: ``parts`` are verbatim slices of consecutive paragraphs."""

    section: int
    heading: str | None
    first_in_section: bool
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


# --- sentences and chunks ------------------------------------------------------------------------------


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in ``text``, whitespace trimmed; slices of the original text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.extend(_trimmed(text, start, match.end()))
        start = match.end()
    spans.extend(_trimmed(text, start, len(text)))
    return spans


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []


def draw_target(key: str, answer_chars: int, sigma: float = DEFAULT_SIGMA) -> int:
    """A target length for one chunk: lognormal with median ``answer_chars``, seeded by ``key``, clipped."""
    rng = random.Random(_hash_int(key))
    factor = min(MAX_FACTOR, max(MIN_FACTOR, math.exp(rng.gauss(0.0, sigma))))
    return max(1, round(answer_chars * factor))


def chunk_post(post: Post, answer_chars: int, sigma: float = DEFAULT_SIGMA) -> list[Chunk]:
    chunks: list[Chunk] = []
    for index, section in enumerate(post.sections):
        chunks.extend(
            _chunk_section(index, section.heading, section.paragraphs, answer_chars, sigma, post.language)
        )
    return [c for c in chunks if len(_WORD_CHAR.findall(c.text)) >= MIN_ANSWER_WORD_CHARS]


def _chunk_section(
    index: int, heading: str | None, paragraphs: list[str], answer_chars: int, sigma: float, language: str
) -> list[Chunk]:
    # A unit is one sentence: (paragraph, start, end). Units only ever shrink from the front (long sentences).
    units = [(p, s, e) for p, para in enumerate(paragraphs) for s, e in split_sentences(para)]
    section_text = "\n".join(paragraphs)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        p, s, e = units[i]
        target = draw_target(f"{heading}\n{section_text}\n{p}:{s}", answer_chars, sigma)
        if e - s > 2 * target:
            cut = _cut_point(paragraphs[p], s, e, target, language)
            group = [(p, s, cut)]
            rest = _trimmed(paragraphs[p], cut, e)
            if rest:
                units[i] = (p, *rest[0])
            else:
                i += 1
        else:
            group = [units[i]]
            i += 1
            # Add the next sentence while that brings the length closer to the target: unbiased around it.
            while i < len(units) and units[i][2] - units[i][1] <= 2 * target:
                current = _length(paragraphs, group)
                if units[i][0] != group[-1][0] and current >= PARAGRAPH_FACTOR * target:
                    break  # a paragraph end is a natural place to stop once the answer is long enough
                if abs(_length(paragraphs, group + [units[i]]) - target) < abs(current - target):
                    group.append(units[i])
                    i += 1
                else:
                    break
            tail = units[i:]
            if tail and _length(paragraphs, tail) < TAIL_FACTOR * target \
                    and _length(paragraphs, group + tail) <= 1.5 * target:
                group += tail  # no orphan half-sentence chunk at the end of a section
                i = len(units)
        chunks.append(Chunk(index, heading, not chunks, _assemble(paragraphs, group)))
    return chunks


def _assemble(paragraphs: list[str], group: list[tuple[int, int, int]]) -> list[str]:
    parts: dict[int, tuple[int, int]] = {}
    for p, s, e in group:
        first, _ = parts.get(p, (s, e))
        parts[p] = (min(first, s), e)
    return [paragraphs[p][s:e] for p, (s, e) in sorted(parts.items())]


def _length(paragraphs: list[str], group: list[tuple[int, int, int]]) -> int:
    parts = _assemble(paragraphs, group)
    return sum(len(part) for part in parts) + len(parts) - 1


def _cut_point(text: str, start: int, end: int, target: int, language: str) -> int:
    """Where to cut an over-long sentence: the clause mark nearest the target, else a space, else the target.

    A clause mark anywhere is better than a space near the target: "…watching | a man carve…" reads broken,
    "…into flowers, | and nobody…" does not. Both pieces keep at least a fifth of the target.
    """
    margin = max(1, target // 5)
    marks = [m.end() for m in _CLAUSE_END.finditer(text, start, end)]
    marks = [pos for pos in marks if start + margin <= pos <= end - margin]
    if not marks and language != "zh":
        low, high = start + target // 2, min(end - margin, start + (3 * target) // 2)
        marks = [m.start() for m in re.finditer(r"\s", text[:high])][::-1]
        marks = [pos for pos in marks if pos >= low]
    if marks:
        return min(marks, key=lambda pos: abs(pos - start - target))
    return start + target


# --- keywords ------------------------------------------------------------------------------------------

EN_STOPWORDS = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "almost", "also", "although", "always", "am",
    "among", "an", "and", "another", "any", "anyone", "anything", "are", "aren't", "around", "as", "at",
    "away", "back", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "can't", "cannot", "could", "couldn't", "did", "didn't", "do", "does", "doesn't", "doing",
    "don't", "done", "down", "during", "each", "either", "else", "enough", "even", "ever", "every",
    "everyone", "everything", "few", "first", "for", "from", "further", "get", "gets", "getting", "got",
    "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her",
    "here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "however", "i", "i'd",
    "i'll", "i'm", "i've", "if", "in", "into", "is", "isn't", "it", "it's", "its", "itself", "just", "last",
    "least", "less", "let", "let's", "like", "likely", "little", "lot", "lots", "made", "make", "makes",
    "many", "may", "maybe", "me", "might", "mine", "more", "most", "much", "must", "my", "myself", "near",
    "need", "needs", "never", "new", "next", "no", "nobody", "none", "nor", "not", "nothing", "now", "of",
    "off", "often", "oh", "ok", "okay", "on", "once", "one", "ones", "only", "onto", "or", "other",
    "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "per", "perhaps", "put",
    "quite", "rather", "really", "right", "said", "same", "say", "says", "see", "seem", "seems", "several",
    "shall", "she", "she'd", "she'll", "she's", "should", "shouldn't", "since", "so", "some", "someone",
    "something", "sometimes", "somewhat", "soon", "still", "such", "sure", "take", "taken", "than", "that",
    "that's", "the", "their", "theirs", "them", "themselves", "then", "there", "there's", "these", "they",
    "they'd", "they'll", "they're", "they've", "thing", "things", "think", "this", "those", "though",
    "through", "thus", "to", "too", "took", "toward", "towards", "two", "under", "until", "up", "upon",
    "us", "use", "used", "using", "very", "via", "want", "wanted", "was", "wasn't", "way", "we", "we'd",
    "we'll", "we're", "we've", "well", "went", "were", "weren't", "what", "what's", "whatever", "when",
    "where", "where's", "whether", "which", "while", "who", "who's", "whom", "whose", "why", "will", "with",
    "within", "without", "won't", "would", "wouldn't", "yes", "yet", "you", "you'd", "you'll", "you're",
    "you've", "your", "yours", "yourself", "yourselves", "actually", "again", "already", "ago", "anyway",
    "became", "become", "becomes", "come", "comes", "came", "feel", "felt", "find", "found", "give",
    "given", "goes", "going", "gone", "keep", "kept", "know", "knew", "known", "look", "looked", "looks",
    "mean", "means", "meant", "part", "seemed", "tell", "told", "tried", "try", "trying", "turn", "turned",
    "year", "years", "week", "weeks", "day", "days", "time", "times", "best", "worst", "one", "two",
    "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty", "thirty",
    "forty", "fifty", "hundred", "thousand", "million",
])
ZH_STOPWORDS = frozenset([
    "我们", "你们", "他们", "她们", "自己", "一个", "一些", "一样", "一直", "一下", "什么",
    "怎么", "怎样", "为什么", "没有", "这个", "那个", "这些", "那些", "这种", "那种", "这样",
    "那样", "就是", "因为", "所以", "但是", "不过", "而且", "然后", "觉得", "其实", "时候",
    "可以", "知道", "现在", "后来", "开始", "已经", "还是", "不是", "真正", "比较", "非常",
    "所有", "以后", "之后", "之前", "每天", "为了", "而是", "有点", "说实话", "出来", "起来",
    "这里", "那里", "事情", "东西", "问题", "感觉", "可能", "应该", "需要", "只是", "还有",
    "或者", "如果", "虽然", "总是", "很多", "多少", "不算", "不会", "不能", "一次", "有些",
    "当时", "直到", "甚至", "几乎", "一边", "整整", "得多",
])
# Numbers and counted amounts ("三年", "五千公里") make poor topics.
_ZH_COUNT = re.compile(r"[\d一二三四五六七八九十百千万两半几]+[年月日天个次块分钟公里小时周岁本点号多]*")
# Nouns and noun-like words make the most natural "你怎么看X？" topics.
_ZH_TOPIC_POS = ("n", "nz", "nr", "ns", "nt", "vn", "an", "eng", "l", "i")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/persona-lab`` (else ``~/.cache/persona-lab``): jieba's dictionary, LLM replies."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "persona-lab"


@functools.lru_cache(maxsize=4)
def _jieba_analyse(cache_dir: str):  # type: ignore[no-untyped-def]
    import jieba  # lazy: jieba loads a 5 MB dictionary on first use
    import jieba.analyse

    # jieba logs at DEBUG and writes its prefix-dict cache to the system temp dir by default: quiet it, and
    # keep the cache with ours (it must be set before jieba's first use to take effect).
    jieba.setLogLevel(logging.WARNING)
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = cache_dir
    except OSError:
        log.debug("jieba cache dir %s not writable; jieba uses the temp dir", cache_dir)
    return jieba.analyse


def zh_keywords(text: str, cache_dir: Path | None = None, top_k: int = 6) -> list[str]:
    """Key phrases of a Chinese text by jieba TF-IDF, nouns first, without counts and stopwords."""
    analyse = _jieba_analyse(str(cache_dir or default_cache_dir()))
    words = analyse.extract_tags(text, topK=top_k * 2, allowPOS=_ZH_TOPIC_POS)
    if not words:
        words = analyse.extract_tags(text, topK=top_k * 2)
    kept = [w for w in words if _good_zh_keyword(w)]
    return kept[:top_k]


def _good_zh_keyword(word: str) -> bool:
    if len(word) < 2 or word in ZH_STOPWORDS or _ZH_COUNT.fullmatch(word):
        return False
    return bool(re.search(f"[{_CJK}A-Za-z]", word))


def en_keywords(texts: list[str], top_k: int = 6) -> list[list[str]]:
    """Key noun phrases of each text, with a determiner, ranked by TF-IDF across ``texts`` (a post's chunks).

    Candidates are what follows a determiner ("the night market", "a pencil", "my phone"): without a tagger,
    that is the cheapest reliable sign of a noun, and nouns make natural "What do you think about X?" topics.
    The determiner is kept and told back to the author ("my phone" -> "your phone", "a pencil" -> "the
    pencil"), because "Tell me about phone." is not English. A text with no such phrase has no keywords.
    """
    candidates = [_en_noun_phrases(t) for t in texts]
    df = Counter(key for phrases in candidates for key in {k for k, _ in phrases})
    n = len(texts)
    result = []
    for phrases in candidates:
        tf = Counter(key for key, _ in phrases)
        shown: dict[str, str] = {}
        for key, display in phrases:
            shown.setdefault(key, display)  # first occurrence wins; dicts keep that order for ties
        order = {key: i for i, key in enumerate(shown)}
        ranked = sorted(tf, key=lambda k: (-tf[k] * (math.log((1 + n) / (1 + df[k])) + 1), order[k]))
        result.append([shown[k] for k in ranked[:top_k]])
    return result


_EN_DETERMINERS = {
    "a": "the", "an": "the", "the": "the", "my": "your", "our": "your", "your": "your", "his": "his",
    "her": "her",
    "their": "their", "its": "its", "this": "this", "that": "that", "these": "these", "those": "those",
    "every": "every", "each": "each", "some": "some", "another": "another",
}
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]|[^\sA-Za-z]")


def _en_noun_phrases(text: str) -> list[tuple[str, str]]:
    """(key, shown) for each determiner + noun phrase: ("phone", "your phone")."""
    tokens = [m.group() for m in _EN_TOKEN.finditer(text)]
    words = [t[0].isalpha() for t in tokens]
    phrases = []
    for i, token in enumerate(tokens):
        determiner = _EN_DETERMINERS.get(token.lower())
        if determiner is None or i + 1 >= len(tokens) or not words[i + 1]:
            continue
        if not _good_en_word(_en_norm(tokens[i + 1])):
            continue
        phrase = [tokens[i + 1]]
        if i + 2 < len(tokens) and words[i + 2] and _good_en_word(_en_norm(tokens[i + 2])):
            after = tokens[i + 3] if i + 3 < len(tokens) else None
            # "the night market." / "the parking lot on": two words when the phrase then ends; otherwise the
            # second word is as likely a verb ("a man carve radishes"), so keep only the first.
            if after is None or not after[0].isalpha() or _en_norm(after) in EN_STOPWORDS:
                phrase.append(tokens[i + 2])
        key = " ".join(_en_norm(w) for w in phrase)
        phrases.append((key, f"{determiner} {' '.join(phrase)}"))
    return phrases


def _en_norm(word: str) -> str:
    word = word.replace("’", "'").lower()
    return word.removesuffix("'s")


def _good_en_word(word: str) -> bool:
    return len(word) >= 3 and word not in EN_STOPWORDS


# --- questions -----------------------------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "title": ["你写过一篇《{title}》，主要想说什么？", "聊聊你那篇《{title}》吧。",
                  "《{title}》这篇讲的是什么？"],
        "heading": ["说说{heading}吧。", "关于「{heading}」，你是怎么想的？", "能聊聊{heading}吗？"],
        "keyword": ["你怎么看{kw}？", "聊聊{kw}吧。", "你对{kw}有什么想法？", "说到{kw}，你有什么感受？"],
        "two": ["说说{kw}和{kw2}吧。", "{kw}和{kw2}，你怎么看？"],
        "followup": ["关于《{title}》，还有什么想说的？", "《{title}》里还有什么值得一提的？"],
        "followup_heading": ["关于「{heading}」，还有什么想补充的？", "「{heading}」这部分，再多说一点？"],
    },
    "en": {
        "title": ['You wrote a post called "{title}". What was it about?',
                  'Tell me about your post "{title}".', 'What\'s the story behind "{title}"?'],
        "heading": ["Can you talk about {heading}?", "What's your take on {heading}?",
                    "Tell me more about {heading}."],
        "wh_heading": ["Tell me {heading}.", "Can you explain {heading}?"],
        "keyword": ["What do you think about {kw}?", "How do you feel about {kw}?",
                    "What's your take on {kw}?", "Tell me about {kw}."],
        "two": ["What do you think about {kw} and {kw2}?", "Tell me about {kw} and {kw2}."],
        "followup": ['What else stands out to you about "{title}"?', 'Anything more to say about "{title}"?'],
        "followup_heading": ["Anything else about {heading}?", "What else would you add about {heading}?"],
    },
}
_ZH_QUESTION_WORD = re.compile(r"为什么|为何|怎么|如何|怎样|什么|哪|谁|几|吗$|呢$")
_EN_WH = re.compile(r"^(?:why|how|what|when|where|who|which)\b", re.IGNORECASE)
_EN_SWAP = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you",
            "us": "you", "our": "your", "ours": "yours", "am": "are", "i'm": "you're", "i've": "you've",
            "i'd": "you'd", "i'll": "you'll", "we're": "you're", "we've": "you've"}


def make_questions(
    post: Post, chunks: list[Chunk], language: str, cache_dir: Path | None = None
) -> list[str]:
    """One question per chunk, in ``language`` ('zh' or 'en'), deterministic for the same chunks."""
    if post.language == "zh":
        keywords = [zh_keywords(c.text, cache_dir) for c in chunks]
    else:
        keywords = en_keywords([c.text for c in chunks])
    templates = TEMPLATES[language]
    title = _clean_title(post.title)
    used: set[str] = set()
    questions = []
    for n, chunk in enumerate(chunks):
        h = _hash_int(chunk.text)
        heading = _clean_heading(chunk.heading)
        if n == 0 and title:
            question = _pick(templates["title"], h).format(title=title)
        elif chunk.first_in_section and heading:
            question = _heading_question(heading, language, h)
        else:
            question = _keyword_question(keywords[n], used, heading, title, language, h)
        questions.append(question)
    return questions


def _keyword_question(keywords: list[str], used: set[str], heading: str | None, title: str, language: str,
                      h: int) -> str:
    templates = TEMPLATES[language]
    context = f"{heading or ''} {title}".lower()
    # Fresh topics first, and not the heading again: the same question twice teaches nothing.
    fresh = [k for k in keywords if k.lower() not in used and k.lower() not in context]
    pool = fresh or [k for k in keywords if k.lower() not in used]
    if not pool:
        # Nothing new to ask about: a follow-up, as a friend would ask ("Anything else about …?").
        if heading:
            shown = _zh_swap(heading) if language == "zh" else _en_swap(_lower_first(heading))
            return _pick(templates["followup_heading"], h).format(heading=shown)
        return _pick(templates["followup"], h).format(title=title)
    if len(pool) >= 2 and h % 3 == 0:
        kw, kw2 = pool[0], pool[1]
        used.update({kw.lower(), kw2.lower()})
        return _pick(templates["two"], h // 3).format(kw=kw, kw2=kw2)
    used.add(pool[0].lower())
    return _pick(templates["keyword"], h).format(kw=pool[0])


def _heading_question(heading: str, language: str, h: int) -> str:
    # A heading is the author's voice ("我的第一辆车", "Why I quit"); asked back, the person is swapped.
    if language == "zh":
        asked = _zh_swap(heading)
        if _ZH_QUESTION_WORD.search(heading) and re.search(f"[{_CJK}]", heading):
            # "为什么我放弃了公交" is already what a friend would ask: "为什么你放弃了公交？"
            return asked if asked.endswith(("？", "?")) else asked.rstrip("。.!！") + "？"
        return _pick(TEMPLATES["zh"]["heading"], h).format(heading=asked)
    if heading.endswith("?"):
        return _en_swap(heading)
    kind = "wh_heading" if _EN_WH.match(heading) else "heading"
    return _pick(TEMPLATES["en"][kind], h).format(heading=_en_swap(_lower_first(heading)))


def _zh_swap(text: str) -> str:
    return text.replace("我们", "你们").replace("咱们", "你们").replace("我", "你")


def _en_swap(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        new = _EN_SWAP.get(word.lower().replace("’", "'"))
        if new is None:
            return word
        return new[0].upper() + new[1:] if match.start() == 0 and word[0].isupper() else new

    return re.sub(r"[A-Za-z]+(?:['’][a-z]+)?", swap, text)


def _lower_first(text: str) -> str:
    # "Books that rewarded…" -> "books that rewarded…", but keep "I", "AI", "Python 3", "iPhone".
    first = text.split(" ", 1)[0]
    if first == "I" or (len(first) > 1 and (first.isupper() or not first[1:].islower())):
        return text
    return text[0].lower() + text[1:]


def _clean_heading(heading: str | None) -> str | None:
    if not heading:
        return None
    cleaned = _HEADING_NUMBER.sub("", heading).strip().rstrip("：:")
    return cleaned or heading


def _clean_title(title: str) -> str:
    return title.strip().strip("《》\"“”")


def _pick(options: list[str], h: int) -> str:
    return options[h % len(options)]


def _hash_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


# --- the converter -------------------------------------------------------------------------------------


def offline_pairs(
    post: Post,
    answer_chars: int,
    *,
    language: str | None = None,
    max_pairs: int | None = None,
    sigma: float = DEFAULT_SIGMA,
    cache_dir: Path | None = None,
) -> list[QAPair]:
    """Q&A pairs of one post; questions in ``language`` (default: the post's), at most ``max_pairs``."""
    chunks = chunk_post(post, answer_chars, sigma)
    if max_pairs is not None and len(chunks) > max_pairs:
        chunks = [chunks[i] for i in spread(len(chunks), max_pairs)]
    questions = make_questions(post, chunks, language or post.language, cache_dir)
    return [QAPair(q, c.text, c.heading) for q, c in zip(questions, chunks)]


def spread(n: int, k: int) -> list[int]:
    """``k`` indices out of ``range(n)``, evenly spaced, always including the first (the title question)."""
    if k >= n:
        return list(range(n))
    if k <= 1:
        return [0][:k]
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})

"""Helpers for the blog tests: the fixture folder, a shared jieba cache, generated long posts."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from persona_lab.blog.offline import TEMPLATES, split_sentences

BLOG = Path(__file__).resolve().parents[1] / "fixtures" / "blog"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

ZH_CLAUSES = [
    "早上出门的时候天还没亮", "我在楼下的小店买了两个包子", "路口的红灯比平时长了很多", "风从河边吹过来",
    "我一直在想昨天没写完的那封信", "其实这件事没有那么难", "同事说他周末去爬了山", "地铁上的人都在低头看手机",
    "我突然很想给老朋友打个电话", "晚饭是自己做的番茄炒蛋", "窗外的树叶已经开始变黄了", "这个城市的秋天总是来得很晚",
    "我把旧书整理了一遍", "有几本书我已经忘了什么时候买的", "楼上的邻居又在练钢琴", "我喜欢这种安静又不孤单的感觉",
    "下班后我绕远路走回家", "公园里有人在放风筝", "我数了数这个月已经跑了六次步", "明天也许会下雨",
]
EN_CLAUSES = [
    "the bus was late again this morning", "I walked the last two stops instead", "the bakery on the corner had fresh rye",
    "my sister called to ask about the garden", "the tomatoes finally turned red", "I spent the evening fixing a bike",
    "the chain kept slipping off the gear", "a neighbour lent me a better wrench", "it rained for most of the afternoon",
    "I read half a novel by the window", "the library closes early on Sundays", "we cooked a big pot of lentil soup",
    "the kids next door built a tiny fort", "I finally answered the pile of letters", "the train to the coast was crowded",
    "nobody seemed to mind the noise", "I wrote three pages and deleted two", "the cat slept on my notes all day",
    "a friend from school visited last week", "the old radio still works after twenty years",
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session: jieba builds its dictionary cache once."""
    return tmp_path_factory.mktemp("blog-cache")


def write_long_post(path: Path, language: str, sections: int = 10, seed: int = 7) -> Path:
    """A Markdown post of ``sections`` sections, sentences of 1-3 clauses, made deterministically."""
    rng = random.Random(seed)
    clauses = ZH_CLAUSES if language == "zh" else EN_CLAUSES
    lines = [f"# {'一周的流水账' if language == 'zh' else 'A week of small notes'}", ""]
    for s in range(sections):
        lines += [f"## {'第' + str(s + 1) + '天' if language == 'zh' else f'Day {s + 1}'}", ""]
        for _ in range(rng.randint(2, 4)):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                parts = rng.sample(clauses, rng.randint(1, 3))
                if language == "zh":
                    sentences.append("，".join(parts) + rng.choice("。。。！？"))
                else:
                    text = ", ".join(parts)
                    sentences.append(text[0].upper() + text[1:] + rng.choice("...!?"))
            lines += [("" if language == "zh" else " ").join(sentences), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def template_patterns(language: str, kinds: tuple[str, ...] | None = None) -> list[re.Pattern[str]]:
    """The question templates of ``language`` (of ``kinds``, default all) as regexes; {kw}, {title}… match any text."""
    patterns = []
    for kind, options in TEMPLATES[language].items():
        if kinds is not None and kind not in kinds:
            continue
        for template in options:
            pieces = re.split(r"\{\w+\}", template)
            patterns.append(re.compile("^" + "(.+)".join(re.escape(p) for p in pieces) + "$"))
    return patterns


def assert_author_sentences(answer: str, paragraphs: list[str]) -> None:
    """Each line of ``answer`` is a verbatim slice of one paragraph, and each of its sentences is the author's."""
    source = "\n".join(paragraphs)
    for line in answer.split("\n"):
        assert any(line in p for p in paragraphs), f"not the author's text: {line!r}"
        for start, end in split_sentences(line):
            assert line[start:end] in source, f"sentence not in the source: {line[start:end]!r}"

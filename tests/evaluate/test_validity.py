"""A metric that cannot tell me from my friends is worthless. On real data: my real replies (shuffled onto
other contexts) > another person's real lines > generic text, for the composite and for authorship.
English: Joey Tribbiani vs Chandler Bing vs generic chatbot lines (Friends, ../shared/data/friends).
Chinese: 佟湘玉 vs 白展堂 vs LCCC's generic Weibo chat (../shared/data/chatharuhi, lccc_toy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.cli import main
from persona_lab.evaluate.runner import score_files
from tests.conftest import shared_file
from tests.evaluate.validity import GENERIC_EN, GENERIC_ZH, lines_of, write_candidates


def run_validity(tmp: Path, export: Path, me: str, other_lines: list[str], generic: list[str],
                 generic_fill: list[str] | None = None):
    assert main(["ingest", str(export), "--me", me, "--out", str(tmp / "lab"), "--quiet"]) == 0
    refs = [json.loads(line) for line in (tmp / "lab" / "data" / "chat_eval.jsonl").read_text("utf-8").splitlines()]
    refs = refs[:200]
    (tmp / "refs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in refs), "utf-8")
    candidates = write_candidates(refs, tmp / "candidates", other_lines, generic, generic_fill=generic_fill)
    result = score_files(tmp / "lab" / "data" / "chat_train.jsonl", tmp / "refs.jsonl", candidates, tmp / "out")
    scores = result.scores
    composite = {v: scores["variants"][v]["composite"] for v in scores["variants"]}
    authorship = {v: scores["variants"][v]["metrics"]["authorship"] for v in scores["variants"]}
    print(f"\n{me}: composite {composite}\n{me}: authorship {authorship}\n{me}: AUC {scores['authorship_auc']:.3f}")
    return scores, composite, authorship


@pytest.mark.slow
def test_joey_beats_chandler_beats_a_chatbot(tmp_path: Path):
    friends = shared_file("friends/friends_s01-s08.jsonl")
    chandler = lines_of(friends, "Chandler Bing")[-2000:]
    scores, composite, authorship = run_validity(tmp_path, friends, "Joey Tribbiani", chandler, GENERIC_EN)
    assert composite["me"] > composite["other"] > composite["generic"], composite
    assert authorship["me"] > authorship["other"] > authorship["generic"], authorship
    assert scores["authorship_auc"] > 0.6
    assert scores["separation"]["winner"] == "me"


@pytest.mark.slow
def test_tong_xiangyu_beats_bai_zhantang_beats_weibo_chat(tmp_path: Path):
    tong = shared_file("chatharuhi/tongxiangyu.jsonl")
    bai = lines_of(shared_file("chatharuhi/baizhantang.jsonl"), "白展堂")
    lccc = lines_of(shared_file("lccc_toy/lccc_toy.jsonl"))
    scores, composite, authorship = run_validity(tmp_path, tong, "佟湘玉", bai, GENERIC_ZH, generic_fill=lccc)
    assert composite["me"] > composite["other"] > composite["generic"], composite
    assert authorship["me"] > authorship["other"] > authorship["generic"], authorship
    assert scores["authorship_auc"] > 0.7

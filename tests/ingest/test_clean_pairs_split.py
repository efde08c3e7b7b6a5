"""The turn/pair/split logic on hand-built messages, where every expectation is easy to check by eye."""

from __future__ import annotations

from array import array

from persona_lab.config import IngestSettings
from persona_lab.ingest.clean import Conversation, PairCandidate, Turn
from persona_lab.ingest.pairs import Speakers, context_messages
from persona_lab.ingest.records import Message
from persona_lab.ingest.split import eval_flags


def msg(sender: str, ts: float, text: str = "x", kind: str = "text") -> Message:
    return Message("c:1", "chat", False, sender, sender, sender == "me", ts, kind, text, "f", 1)


def run(messages: list[Message], **settings) -> tuple[list[Turn], list[PairCandidate]]:
    turns: list[Turn] = []
    pairs: list[PairCandidate] = []
    s = IngestSettings(**settings)
    conversation = Conversation("c:1", s.merge_window_s, s.session_gap_s, s.context_turns, turns.append, pairs.append)
    for m in messages:
        conversation.add(m, m.sender == "me", m.text)
    conversation.flush()
    return turns, pairs


def test_bursts_within_the_window_merge_and_later_ones_do_not():
    turns, pairs = run([msg("a", 0, "吃了吗"), msg("me", 10, "好"), msg("me", 100, "那我7点到"),
                        msg("me", 300, "带伞")])
    assert [(t.sender, t.text, t.parts) for t in turns] == [
        ("a", "吃了吗", 1), ("me", "好\n那我7点到", 2), ("me", "带伞", 1)]
    assert [p.reply.text for p in pairs] == ["好\n那我7点到", "带伞"]
    assert [t.text for t in pairs[1].context] == ["吃了吗", "好\n那我7点到"]


def test_long_silence_starts_a_new_session_with_empty_context():
    _, pairs = run([msg("a", 0), msg("me", 60), msg("a", 60 + 3601), msg("me", 60 + 3700)])
    assert [len(p.context) for p in pairs] == [1, 1]
    assert pairs[1].reply.session == 1


def test_media_breaks_the_chain_and_stickers_do_not():
    _, pairs = run([msg("a", 0, "看这个"), msg("a", 5, kind="image"), msg("me", 20, "哈哈哈")])
    assert pairs[0].context == []
    _, pairs = run([msg("a", 0, "看这个"), msg("a", 5, kind="sticker"), msg("me", 20, "哈哈哈")])
    assert [t.text for t in pairs[0].context] == ["看这个"]


def test_context_is_capped_at_n_turns():
    messages = [msg("a" if i % 2 == 0 else "me", i * 200, str(i)) for i in range(12)]
    _, pairs = run(messages, context_turns=3)
    assert [t.text for t in pairs[-1].context] == ["8", "9", "10"]


def test_roles_alternate_group_prefixes_are_pseudonyms_and_openers_are_marked():
    settings = IngestSettings()
    a = Turn("g", "Ann", "ann", False, 0, 0, "hi")
    b = Turn("g", "Bo", "bo", False, 1, 1, "yo")
    me = Turn("g", "me", "me", True, 2, 2, "hey all")
    messages, opener = context_messages(PairCandidate("g", [a, b], me), True, Speakers(False), settings)
    assert messages == [{"role": "user", "content": "[NAME#1]: hi\n[NAME#2]: yo"}]
    assert opener is False
    messages, opener = context_messages(PairCandidate("g", [], me), False, Speakers(False), settings)
    assert opener is True and messages == [{"role": "user", "content": settings.opener_marker}]
    messages, _ = context_messages(PairCandidate("g", [me, a], me), True, Speakers(True), settings)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]  # never starts with assistant
    assert messages[2]["content"] == "Ann: hi"


def test_time_split_takes_the_latest_fraction_with_ties_in_discovery_order():
    ts = array("d", [5, 1, 9, 9, 3, 7, 2, 8, 6, 4])
    flags = eval_flags(ts, 0.3)
    assert [i for i, f in enumerate(flags) if f] == [2, 3, 7]
    assert sum(eval_flags(ts, 0.0)) == 0


def test_time_split_from_a_date_takes_every_reply_at_or_after_it():
    ts = array("d", [30.0, 10.0, 20.0, 20.0, 40.0])
    assert list(eval_flags(ts, 0.1, eval_from=20.0)) == [1, 0, 1, 1, 1]
    assert sum(eval_flags(ts, 0.1, eval_from=99.0)) == 0


def test_split_by_season_on_dialogue_jsonl(tmp_path):
    """Two 'seasons' a year apart: eval_from puts exactly the second one in evaluation, in local time."""
    import json

    from persona_lab.config import parse_config
    from persona_lab.ingest.stage import run_ingest

    rows = []
    for season, day in ((1, "2000-05-01"), (2, "2001-05-01")):
        for scene in range(3):
            for turn, (speaker, text) in enumerate([("Ann", f"question {season}.{scene}?"),
                                                    ("Joe", f"answer {season}.{scene} from me")], 1):
                rows.append({"dialogue_id": f"s{season}_c{scene}", "turn": turn, "speaker": speaker,
                             "text": text, "time": day})
    export = tmp_path / "show.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    config = parse_config({"name": "t", "me": ["Joe"], "sources": [{"path": str(export)}],
                           "timezone": "Asia/Shanghai", "workspace": str(tmp_path / "lab"),
                           "ingest": {"eval_from": "2001-01-01"}}, tmp_path / "t.yaml")
    result = run_ingest(config, progress=False)
    pairs = result.report["pairs"]
    assert (pairs["replies"], pairs["train"], pairs["eval"]) == (6, 3, 3)
    assert pairs["eval_from"] == "2000-12-31T16:00:00Z" and pairs["eval_fraction"] is None
    eval_items = [json.loads(line) for line in (tmp_path / "lab" / "data" / "chat_eval.jsonl").open()]
    assert sorted(item["reply"] for item in eval_items) == [f"answer 2.{i} from me" for i in range(3)]
    assert "my replies from 2000-12-31T16:00:00Z on" in (tmp_path / "lab" / "data" / "DATA_CARD.md").read_text()


def test_eval_from_must_be_a_time(tmp_path):
    import pytest

    from persona_lab.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="eval_from: 'next spring' is not a date/time"):
        parse_config({"name": "t", "ingest": {"eval_from": "next spring"}}, tmp_path / "t.yaml")

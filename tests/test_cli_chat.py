"""`persona-lab chat` from the command line: the export of what visitors tried, and clear refusals when no
variant is chosen, the variant is unknown or the avatar is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_lab.cli import main
from persona_lab.config import ConfigError, parse_config
from persona_lab.workspace.votes import ArenaStore


def lab(tmp_path: Path, **chat) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(json.dumps({"name": "c", "me": ["阿澈"], "workspace": str(tmp_path / "ws"),
                                "arena": {"chat": chat}}), "utf-8")
    return path


def test_chat_export_writes_the_turns_and_says_what_was_asked(tmp_path, capsys):
    from tests.arena.chat_helpers import chat_page

    config = lab(tmp_path)
    with ArenaStore.for_path(tmp_path / "ws" / "arena.db") as store:
        page = chat_page(store)
        for message in ("你身份证号多少", "周末打球吗"):
            list(page.reply(page.consent(True), None, [], message))
    assert main(["chat", "export", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "exported 2 messages in 2 conversations of 2 visitors" in out
    assert "asked for: id_number 1; real values masked in replies: 1" in out
    folder = tmp_path / "ws" / "chat_export"
    assert len((folder / "turns.jsonl").read_text("utf-8").splitlines()) == 2
    assert json.loads((folder / "summary.json").read_text("utf-8"))["intents_total"]["none"] == 1


def test_chat_without_a_chosen_variant_says_what_to_do(tmp_path, capsys):
    assert main(["chat", "--config", str(lab(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert "no evaluation yet" in err and "persona-eval run" in err


def test_chat_variant_comes_from_the_flag_then_the_config_then_the_choice(tmp_path):
    from persona_lab.cli import _chat_variant

    config = parse_config(json.loads(lab(tmp_path, variant="chat91").read_text("utf-8")), tmp_path / "lab.yaml")
    assert _chat_variant(config, "chat55") == "chat55" and _chat_variant(config, None) == "chat91"
    undecided = parse_config(json.loads(lab(tmp_path).read_text("utf-8")), tmp_path / "lab.yaml")
    (undecided.workspace_dir / "eval").mkdir(parents=True)
    scores = {"ranking": ["chat72", "chat91"], "controls": [],
              "variants": {v: {"fidelity": 0.5, "kind": "blend", "metrics": {}} for v in ("chat72", "chat91")},
              "recommendation": {"winner": None, "pool": ["chat72", "chat91"], "reason": "not separable"}}
    (undecided.workspace_dir / "eval" / "scores.json").write_text(json.dumps(scores), "utf-8")
    with pytest.raises(ConfigError, match="no variant chosen for the chat page: not separable") as caught:
        _chat_variant(undecided, None)
    assert "--variant" in caught.value.hint


def test_unknown_variant_and_missing_avatar_are_refused(tmp_path):
    from persona_lab.arena.chat import avatar_path, make_chat_page
    from tests.arena.chat_helpers import ScriptedBackend

    config = parse_config(json.loads(lab(tmp_path, avatar="me.png").read_text("utf-8")), tmp_path / "lab.yaml")
    with ArenaStore.for_path(tmp_path / "arena.db") as store, \
            pytest.raises(ConfigError, match="unknown variant 'chat99' for the chat page. Available: chat72, base"):
        make_chat_page(config, "chat99", backend=ScriptedBackend(), store=store)
    with pytest.raises(ConfigError, match="arena.chat.avatar: no image at"):
        avatar_path(config)

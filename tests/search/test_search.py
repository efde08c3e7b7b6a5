"""The blend search's pieces: its trials are exact blends of the asked weights, it starts from the fixed
ratios, its dev split is the profile's and is held out of training, and it refuses a dev split trained on."""

from __future__ import annotations

import json

import pytest

from persona_lab.blend.merge import blend_weights
from persona_lab.config import parse_config
from persona_lab.evaluate.profile import load_profile
from persona_lab.search.run import Proposal, SearchError, check_dev_held_out, fixed_proposals, run_search
from persona_lab.train.sft import held_out_ids, load_messages
from persona_lab.workspace.shapes import dev_ids
from tests.evaluate.conftest import training_rows, write_jsonl

STEPS = {"chat": [3, 6], "blog": [3, 6]}


def lab(tmp_path, **search):
    return parse_config({"name": "s", "base_model": "tiny-test", "workspace": str(tmp_path / "ws"),
                         "search": {"enabled": True, **search}}, tmp_path / "s.yaml")


def test_a_trial_is_the_exact_blend_of_its_share_and_strength():
    spec = Proposal(chat_share=0.8, strength=1.25, steps={"chat": 3, "blog": 6}).spec("trial-001")
    applied = blend_weights(spec)
    assert applied == pytest.approx({"chat": 1.0, "blog": 0.25})
    assert spec.method == "cat" and spec.steps == {"chat": 3, "blog": 6}


def test_the_fixed_ratios_come_first_as_trials(tmp_path):
    fixed = fixed_proposals(lab(tmp_path), STEPS)  # the default blends: 5:5, 7:2, 9:1, normalised
    assert [p.fixed for p in fixed] == ["chat55", "chat72", "chat91"]
    assert [round(p.chat_share, 4) for p in fixed] == [0.5, round(7 / 9, 4), 0.9]
    assert all(p.strength == 1.0 and p.steps == {"chat": 6, "blog": 6} for p in fixed)
    for proposal, spec in zip(fixed, lab(tmp_path).blends):
        assert blend_weights(proposal.spec("t")) == pytest.approx(blend_weights(spec))


def test_the_dev_split_is_the_profiles_and_training_leaves_it_out(tmp_path):
    config = lab(tmp_path)
    write_jsonl(config.paths.chat_train, training_rows(240))
    profile_dev = {item.id for item in load_profile(config.paths.chat_train).dev}
    assert profile_dev == dev_ids(config.paths.chat_train) and len(profile_dev) == 36  # 15% of 240
    held = held_out_ids(config, "chat")
    assert held == profile_dev
    trained_on = load_messages(config.paths.chat_train, held)
    assert trained_on == [{"messages": r["messages"]} for r in training_rows(240) if r["id"] not in held]
    assert len(trained_on) == 240 - 36
    config.search.enabled = False
    assert held_out_ids(config, "chat") == set()  # search off: every sample is trained on
    assert held_out_ids(lab(tmp_path), "blog") == set()


def test_it_refuses_adapters_that_learned_the_dev_split(served_lab):
    with pytest.raises(SearchError, match="trained on the dev split"):
        check_dev_held_out(served_lab)
    manifest = served_lab.paths.adapter_manifest("chat")
    raw = json.loads(manifest.read_text("utf-8"))
    manifest.write_text(json.dumps({**raw, "held_out": 36}), "utf-8")
    assert check_dev_held_out(served_lab) == 36


def test_no_adapters_is_a_clear_error(tmp_path):
    with pytest.raises(SearchError, match="no chat adapter yet"):
        run_search(lab(tmp_path), progress=False)


def test_a_manifest_naming_a_missing_checkpoint_is_a_clear_error(served_lab):
    import shutil

    shutil.rmtree(served_lab.paths.adapter_run("blog") / "checkpoint-3")
    with pytest.raises(SearchError, match=r"not there: .*blog/checkpoint-3"):
        run_search(served_lab, progress=False)

"""persona-lab tune on the tiny model: the held-out margin grows, the tuned variant is registered with its
lineage, served by the local engine, blended by name, and refused with a clear error when it cannot be made."""

from __future__ import annotations

import json
import math

import pytest

from persona_lab.tune.stage import TuneError, run_tune
from tests.conftest import REPLIES


def with_tune(config, **tune):
    return config.model_copy(update={"tune": config.tune.model_copy(update=tune)})


def test_spin_grows_the_held_out_margin_and_the_variant_is_registered_served_and_blendable(served_lab):
    from persona_lab.blend.merge import build_blend
    from persona_lab.blend.registry import write_registry
    from persona_lab.config import BlendSpec
    from persona_lab.serve.backend import ChatRequest, GenerationParams
    from persona_lab.serve.local import LocalEngine
    from persona_lab.workspace.shapes import load_registry

    config = with_tune(served_lab, from_variant="chat", method="spin", pairs=24, steps=12, lr=5e-3, batch_size=4,
                       held_out=0.25, max_new_tokens=12)
    lines: list[str] = []
    result = run_tune(config, progress=False, say=lines.append)
    m = result.manifest
    # 24 contexts: 6 held out (never trained on), 18 pairs trained for 12 steps, against the parent's replies
    assert (m["train_examples"], m["held_out_examples"], m["steps"], m["iterations"]) == (18, 6, 12, 1)
    pairs = [json.loads(line) for line in config.paths.tune_pairs("chat-spin").read_text().splitlines()]
    held = [p for p in pairs if p["held_out"]]
    assert len(held) == 6 and not {p["group"] for p in held} & {p["group"] for p in pairs if not p["held_out"]}
    chosen_by_id = {json.loads(line)["id"]: json.loads(line)["messages"][-1]["content"]
                    for line in config.paths.chat_train.read_text().splitlines()}
    assert all(p["chosen"] == chosen_by_id[p["id"]] for p in pairs)  # chosen = my real training reply
    # the margin on the held-out pairs grows (log p(chosen) - log p(rejected), nats summed over the reply)
    assert m["margin_after"] > m["margin_before"] + 1.0, m
    assert m["held_out_after"]["accuracy"] >= m["held_out_before"]["accuracy"]
    assert any("held-out margin" in line for line in lines)

    registry = load_registry(config.paths)
    entry = {v["name"]: v for v in registry["variants"]}["chat-spin"]
    assert (entry["kind"], entry["tuned_from"], entry["method"], entry["votes"]) == ("adapter", "chat", "spin", 0)
    assert entry["data_hash"] == m["data_hash"] and entry["path"] == str(config.paths.tuned_adapter("chat-spin"))

    # served like any adapter, with its own weights (its likelihood of my reply differs from its parent's)
    engine = LocalEngine(registry)
    assert "chat-spin" in engine.variants()
    messages = [{"role": "user", "content": "第3个问题 吃了吗"}]
    (reply,) = engine.chat_batch([ChatRequest("chat-spin", messages, GenerationParams(8, 0.0))])
    assert reply.completion_tokens > 0
    tuned_lp = engine.sequence_logprobs("chat-spin", messages, [REPLIES[3]])[0]
    parent_lp = engine.sequence_logprobs("chat", messages, [REPLIES[3]])[0]
    # (not "higher": one reply of one context can move either way; the held-out margin above is the claim, and
    # the fixture's random parent differs with the tests that ran before it)
    assert abs(tuned_lp - parent_lp) > 1e-3

    # blended by name; a rebuilt registry (blend's) keeps the tuned variant and its lineage
    blend = build_blend(config, BlendSpec(name="spin72", weights={"chat-spin": 7, "blog": 2}))
    assert blend["parent_paths"]["chat-spin"] == str(config.paths.tuned_adapter("chat-spin"))
    from persona_lab.blend.stage import STAGE as BLEND
    from persona_lab.stage import RunContext

    assert BLEND.inputs(config, RunContext())["tuned"] == {}  # no config blend names it: blends stay put
    config.blends = [BlendSpec(name="spin72", weights={"chat-spin": 7, "blog": 2})]
    assert BLEND.inputs(config, RunContext())["tuned"]["chat-spin"]["weights"]  # one that does reruns with it
    rebuilt = {v["name"]: v for v in write_registry(config, [blend])["variants"]}
    assert rebuilt["chat-spin"]["tuned_from"] == "chat" and rebuilt["spin72"]["parents"] == ["chat-spin", "blog"]


def _voting_lab(config, battles: int, garbage: str = "the quick brown fox jumps over the lazy dog"):
    """An arena where raters always prefer my kind of reply over a clone's rambling, sides alternating."""
    from persona_lab.workspace.votes import ArenaStore

    with ArenaStore.for_lab(config) as store:
        rater = store.add_rater("friend", False)
        for i in range(battles):
            a_is_real = i % 2 == 0
            battle = store.open_battle(rater, "chat", "blog")
            real = REPLIES[i % len(REPLIES)]
            store.add_turn(battle, f"第{i}个问题 吃了吗", real if a_is_real else garbage, garbage if a_is_real else real)
            store.record_vote(battle, rater, "model_a" if a_is_real else "model_b")


def test_dpo_from_votes_grows_the_margin_on_held_out_battles(served_lab):
    _voting_lab(served_lab, 16)
    config = with_tune(served_lab, method="dpo", steps=10, lr=5e-3, batch_size=4, held_out=0.25)
    m = run_tune(config, progress=False, say=lambda _: None).manifest
    assert (m["train_examples"], m["held_out_examples"], m["votes"]) == (12, 4, 16)
    assert m["margin_after"] > m["margin_before"] + 1.0, m
    assert m["data"]["read"] == {"vote": 16} and m["data"]["dropped"] == {}
    # the reference is the parent (a random, non-zero adapter), not the bare base: at the first step the policy
    # equals its reference, so every pair's implicit reward is 0 and the DPO loss is exactly ln 2
    log = [json.loads(line) for line in config.paths.tune_log("chat-dpo").read_text().splitlines()]
    first = next(row for row in log if "loss" in row)
    assert first["step"] == 1 and abs(first["loss"] - math.log(2)) < 1e-4 and abs(first["rewards/margins"]) < 1e-4


def test_errors_name_the_problem_and_what_is_needed(served_lab):
    with pytest.raises(TuneError, match=r"unknown variant 'nope'. Available: base, prompted, retrieval, chat"):
        run_tune(served_lab, "nope", "spin", say=lambda _: None)
    with pytest.raises(TuneError, match=r"'prompted' is of kind 'prompted', which has no LoRA adapter.*: chat, blog"):
        run_tune(served_lab, "prompted", "spin", say=lambda _: None)
    with pytest.raises(TuneError, match=r"no arena yet .* need at least 8 usable pairs"):
        run_tune(served_lab, "chat", "dpo", say=lambda _: None)
    _voting_lab(served_lab, 3)
    with pytest.raises(TuneError, match=r"dpo needs at least 8 pairs from decisive battle votes; the arena gives 3"):
        run_tune(served_lab, "chat", "dpo", say=lambda _: None)
    with pytest.raises(TuneError, match="name 'chat72' is taken by the blend variant of that name"):
        run_tune(with_tune(served_lab, name="chat72"), "chat", "spin", say=lambda _: None)
    with pytest.raises(TuneError, match="unknown tuning method 'ppo'. Available: spin, dpo, kto"):
        run_tune(served_lab, "chat", "ppo", say=lambda _: None)
    assert not served_lab.paths.tuned_root.exists()  # nothing half-made


def test_cli_prints_the_error_and_hint(served_lab, tmp_path, capsys):
    import yaml

    from persona_lab.cli import main

    raw = {"name": "tiny", "base_model": "tiny-test", "workspace": str(served_lab.paths.root)}
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(raw), "utf-8")
    assert main(["tune", "--config", str(path), "--from", "base", "--method", "spin"]) == 1
    err = capsys.readouterr().err
    assert "error: variant 'base' is of kind 'base'" in err and "hint: preference tuning trains an adapter" in err
    assert main(["tune", "--config", str(path), "--method", "kto"]) == 1
    assert "kto learns from arena votes, and this lab has no arena yet" in capsys.readouterr().err


def test_kto_from_votes_trains_against_the_parent_and_records_its_data(served_lab):
    _voting_lab(served_lab, 12)
    config = with_tune(served_lab, method="kto", steps=8, lr=5e-3, batch_size=4, held_out=0.25, name="chat-kto2")
    m = run_tune(config, progress=False, say=lambda _: None).manifest
    # 12 battles x 2 sides = 24 examples (12 desirable, 12 not), 3 battles' 6 examples held out
    assert (m["train_examples"], m["held_out_examples"], m["votes"], m["steps"]) == (18, 6, 12, 8)
    assert m["margin_after"] > m["margin_before"], m  # desirable minus undesirable mean log p, held out
    assert m["data"]["read"] == {"vote": 12} and m["eval_items_used"] == []
    assert m["name"] == "chat-kto2" and m["tuned_from"] == "chat"


def test_spin_rounds_generate_with_the_previous_round_and_stage_inputs_track_votes(served_lab):
    from persona_lab.stage import RunContext
    from persona_lab.tune.stage import STAGE

    config = with_tune(served_lab, iterations=2, pairs=8, steps=2, lr=5e-3, batch_size=2, max_new_tokens=6)
    m = run_tune(config, progress=False, say=lambda _: None).manifest
    assert (m["iterations"], m["steps"]) == (2, 4) and [r["round"] for r in m["data"]["rounds"]] == [1, 2]
    pairs = [json.loads(line) for line in config.paths.tune_pairs("chat-spin").read_text().splitlines()]
    by_round = {r: [p["rejected"] for p in pairs if p.get("round") == r] for r in (1, 2)}
    assert len(by_round[1]) == len(by_round[2]) == 6 and by_round[1] != by_round[2]  # round 2's own replies
    assert sorted(p.name for p in config.paths.tuned("chat-spin").iterdir()) == [
        "adapter", "pairs.jsonl", "tune_log.jsonl", "tune_manifest.json"]  # round folders cleaned up

    dpo = with_tune(served_lab, method="dpo")
    before = STAGE.inputs(dpo, RunContext())
    _voting_lab(served_lab, 2)
    after = STAGE.inputs(dpo, RunContext())
    assert "votes" not in before and after["votes"]  # the arena's content is an input of dpo/kto
    assert after["parent"] == before["parent"] and after["parent"]["weights"]  # the parent adapter's fingerprint
    assert STAGE.outputs(dpo) == [served_lab.paths.tuned("chat-dpo")]

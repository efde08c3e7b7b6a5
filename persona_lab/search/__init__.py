"""Blend search: continuous chat:blog weights, overall strength and checkpoints, scored on the dev split.

``persona-lab search --config CFG`` (and the ``search`` stage of ``persona-lab run`` when ``search.enabled``)
tries ``search.trials`` exact ``cat`` blends of the chat and blog adapters: the config's fixed ratios first
(5:5, 7:2, 9:1 by default), then what Optuna's TPE proposes from the scores so far. Each trial answers the
dev split (the training file's latest slice, held out of the chat adapter's training when the search is on,
never data/chat_eval.jsonl) and is scored with the evaluation's own fidelity, controls and intervals. The
best becomes the variant ``auto`` with its lineage; the held-out evaluation split is then used once, by the
eval stage, for ``auto`` and the fixed ratios alike.

This package composes the blend and evaluate stages' public functions, so it sits in the layer above the
stages (pyproject.toml's import contract), as the loop does.
"""

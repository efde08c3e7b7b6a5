"""The arena's Gradio UI: Battle, Real or clone?, Rate, Leaderboard.

With ``arena.chat.enabled`` the public chat page (``chat.py``: one chosen variant, not blind, never counted
as a vote) and its admin dashboard are two more tabs.

Everything that would reveal a variant lives on the server (``battle.Arena`` and the store); the page
holds a rater id and opaque battle/round ids in ``gr.State`` (kept server-side by Gradio, never sent to the
browser). The leaderboard is rendered only when asked for. An optional shared password comes from the
environment variable named by ``arena.password_env``.
"""

from __future__ import annotations

import os
from typing import Any

from persona_lab.arena.battle import VOTES, Arena
from persona_lab.arena.chat import add_chat_tabs, admin_password_reader, avatar_path, make_chat_page
from persona_lab.arena.leaderboard import leaderboard_markdown
from persona_lab.config import ConfigError
from persona_lab.serve.backend import GenerationParams
from persona_lab.serve.factory import make_backend, make_guard
from persona_lab.workspace.shapes import cached_first_replies, load_registry, read_eval_items, read_scores
from persona_lab.workspace.votes import ArenaError, ArenaStore, check_message

VOIDED = "A reply gave away which clone it is, so this battle will not count. Send a message to start a new one."


def _text(history: list[dict]) -> list[dict]:
    """Gradio 6 hands history content back as parts ([{"type": "text", "text": ...}]): flatten it."""
    out = []
    for message in history or []:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        out.append({"role": message["role"], "content": content or ""})
    return out


def build_app(arena: Arena, store, scores: dict[str, Any] | None = None, title: str = "persona-lab arena", *,
              rater_group: str = "friends", chat: dict[str, Any] | None = None):
    """The arena page. ``rater_group``: the board this deployment's raters count on ("friends", or
    "strangers" for a public arena). ``chat``: keyword arguments of ``chat.add_chat_tabs`` (page,
    admin_password, avatar, password_env) to add the chat page and its dashboard as tabs."""
    import gradio as gr

    def ensure_rater(rater: str | None, name: str, is_person: bool) -> str:
        return rater or store.add_rater(name.strip() or None, bool(is_person), group=rater_group)

    def send(message, battle, rater, name, is_person, chat_a, chat_b):
        rater = ensure_rater(rater, name, is_person)
        try:
            check_message(message or "")
        except ArenaError as exc:
            yield chat_a, chat_b, battle, rater, f"⚠️ {exc}", message
            return
        if not battle:
            battle = arena.start_battle(rater)
            chat_a, chat_b = [], []
        history_a, history_b = _text(chat_a), _text(chat_b)
        chat_a = history_a + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        chat_b = history_b + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        try:
            for text_a, text_b, done in arena.reply_pair(battle, history_a, history_b, message):
                chat_a[-1]["content"], chat_b[-1]["content"] = text_a, text_b
                if done and arena.voided(battle):
                    yield chat_a, chat_b, None, rater, VOIDED, ""
                    return
                yield chat_a, chat_b, battle, rater, "" if not done else "Vote when you are ready.", ""
        except Exception as exc:  # noqa: BLE001 - the battle is marked failed and will not count
            chat_a[-1]["content"] = chat_b[-1]["content"] = f"⚠️ reply failed: {exc}"
            yield chat_a, chat_b, None, rater, "This battle failed and will not count. Start a new one.", message

    def vote(choice, battle, rater):
        if not battle:
            return "Start a battle first: send a message.", battle
        try:
            return arena.vote(battle, rater, choice), battle
        except ArenaError as exc:
            return f"⚠️ {exc}", battle

    def new_battle():
        return [], [], None, "New battle: send a message.", ""

    def new_round(rater, name, is_person):
        rater = ensure_rater(rater, name, is_person)
        try:
            round_id, context, left, right = arena.new_round()
        except LookupError as exc:
            return None, rater, str(exc), "", "", ""
        return round_id, rater, context, left, right, "Which reply did the person really write?"

    def guess(pick, round_id, rater):
        if not round_id:
            return "Start a round first.", None
        try:
            return arena.guess(round_id, rater, pick), None
        except LookupError as exc:
            return f"⚠️ {exc}", None

    def new_rating(rater, name, is_person):
        rater = ensure_rater(rater, name, is_person)
        try:
            round_id, context, reply = arena.new_rating_item()
        except LookupError as exc:
            return None, rater, str(exc), ""
        return round_id, rater, context, reply

    def rate(score, note, round_id, rater):
        if not round_id:
            return "Take a reply to rate first.", None
        try:
            return arena.rate(round_id, rater, int(score), note), None
        except (LookupError, ArenaError) as exc:
            return f"⚠️ {exc}", None

    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nTwo clones answer the same message; say which sounds more like the person. "
                    "Names are revealed only after your vote.")
        rater = gr.State(None)
        with gr.Row():
            name = gr.Textbox(label="Your name (optional)", scale=3)
            is_person = gr.Checkbox(label="I am the person", scale=1)
        with gr.Tab("Battle"):
            battle = gr.State(None)
            with gr.Row():
                chat_a = gr.Chatbot(label="A", height=360)
                chat_b = gr.Chatbot(label="B", height=360)
            message = gr.Textbox(label="Your message", placeholder="Say something to both…")
            with gr.Row():
                send_button = gr.Button("Send", variant="primary")
                new_button = gr.Button("New battle")
            with gr.Row():
                vote_buttons = [gr.Button(label) for label in VOTES]
            battle_status = gr.Markdown()
            outputs = [chat_a, chat_b, battle, rater, battle_status, message]
            inputs = [message, battle, rater, name, is_person, chat_a, chat_b]
            send_button.click(send, inputs, outputs, api_name="send")
            message.submit(send, inputs, outputs, api_name=False)
            new_button.click(new_battle, None, [chat_a, chat_b, battle, battle_status, message], api_name="new_battle")
            for button, label in zip(vote_buttons, VOTES):
                button.click(lambda b, r, label=label: vote(label, b, r), [battle, rater], [battle_status, battle],
                             api_name=f"vote_{VOTES[label].replace(' ', '_').replace('(', '').replace(')', '')}")
        with gr.Tab("Real or clone?"):
            round_state = gr.State(None)
            context = gr.Markdown()
            with gr.Row():
                left = gr.Textbox(label="Left", interactive=False)
                right = gr.Textbox(label="Right", interactive=False)
            with gr.Row():
                left_button = gr.Button("Left is real")
                right_button = gr.Button("Right is real")
                round_button = gr.Button("New round")
            round_status = gr.Markdown()
            round_button.click(new_round, [rater, name, is_person],
                               [round_state, rater, context, left, right, round_status], api_name="new_round")
            left_button.click(lambda r, u: guess("left", r, u), [round_state, rater], [round_status, round_state],
                              api_name="guess_left")
            right_button.click(lambda r, u: guess("right", r, u), [round_state, rater], [round_status, round_state],
                               api_name="guess_right")
        with gr.Tab("Rate"):
            rate_state = gr.State(None)
            rate_context = gr.Markdown()
            rate_reply = gr.Textbox(label="Reply", interactive=False)
            score = gr.Slider(1, 5, value=3, step=1, label="Sounds like the person (1-5)")
            note = gr.Textbox(label="Note (optional)", max_length=2000)
            with gr.Row():
                take = gr.Button("Take a reply")
                submit = gr.Button("Submit rating", variant="primary")
            rate_status = gr.Markdown()
            take.click(new_rating, [rater, name, is_person], [rate_state, rater, rate_context, rate_reply],
                       api_name="new_rating")
            submit.click(rate, [score, note, rate_state, rater], [rate_status, rate_state], api_name="rate")
        with gr.Tab("Leaderboard"):
            board = gr.Markdown("Press refresh to see the standings.")
            refresh = gr.Button("Refresh")
            refresh.click(lambda: leaderboard_markdown(store, scores), None, board, api_name="leaderboard")
        if chat is not None:
            add_chat_tabs(**chat)
    return demo


def make_arena(config) -> tuple[Any, Any, dict | None]:
    """Backend, store and scores for a lab; returns (arena, store, scores)."""
    registry = load_registry(config.paths)
    variants = config.arena.variants or [v["name"] for v in registry["variants"]]
    store = ArenaStore.for_lab(config)
    items = read_eval_items(config.paths.chat_eval) if config.paths.chat_eval.exists() else []
    cached = cached_first_replies(config.paths)
    scores = read_scores(config.paths)
    arena = Arena(make_backend(config), store, make_guard(config, enabled=True), variants, eval_items=items,
                  cached_replies=cached, params=GenerationParams(config.arena.max_tokens, config.arena.temperature,
                                                                 config.arena.top_p, None),
                  scores=scores)
    return arena, store, scores


def launch(config, *, host: str | None = None, port: int | None = None, block: bool = True,
           chat_variant: str | None = None):
    """The arena; with ``arena.chat.enabled`` (and ``chat_variant``, the variant visitors chat with) also the
    chat page and its dashboard, as tabs."""
    arena, store, scores = make_arena(config)
    chat = None
    if config.arena.chat.enabled:
        if not chat_variant:
            raise ConfigError("arena.chat.enabled is set but no variant is chosen for the chat page",
                              hint="set arena.chat.variant, or run `persona-eval choose` first")
        chat = {"page": make_chat_page(config, chat_variant, backend=arena.backend, store=store),
                "admin_password": admin_password_reader(config), "avatar": avatar_path(config),
                "password_env": config.arena.chat.admin_password_env}
    demo = build_app(arena, store, scores, title=f"persona-lab arena: {config.name}",
                     rater_group=config.arena.rater_group, chat=chat)
    auth = None
    if config.arena.password_env:
        password = os.environ.get(config.arena.password_env)
        if not password:
            raise ConfigError(f"arena.password_env names {config.arena.password_env}, which is not set",
                              hint=f"export {config.arena.password_env}=... before starting the arena")
        auth = lambda user, given: given == password
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=host or config.arena.host, server_port=port or config.arena.port, auth=auth,
                prevent_thread_lock=not block, quiet=True, show_error=True)
    return demo

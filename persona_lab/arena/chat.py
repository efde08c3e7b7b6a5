"""The public "chat with me" page: strangers talk to the chosen clone, and the lab learns what they try.

Features, and their trade-offs:
  * **Not blind.** One variant (``persona-eval choose``'s pick, or ``--variant``), under the persona's name and
    avatar, with a banner saying it is an AI clone. Nothing here is a vote; the leaderboard never reads it.
  * **Consent first.** Until the visitor ticks the consent box nothing is generated and nothing is stored, not
    even a visitor row. Then every turn is stored *scrubbed*: the visitor's message with private-looking
    values masked (what they typed may be someone's phone number), the reply as shown.
  * **The reply guard is always on** (whatever ``serve.guard`` says): real values of the person's data are
    masked while the reply streams and in the stored copy; the guard's finds are stored per turn.
  * **Limits.** A per-visitor rate limit (a sliding minute, in this process) and a turn limit per conversation
    (in the store, under the conversation's row lock). A visitor is one page load: reloading gives a new one,
    so the rate limit stops a script hammering one session, not a determined person; put a per-IP limit in
    the reverse proxy in front of a public deployment.
  * **Bad input gets a clear answer:** empty or whitespace, over ``max_message_chars``, only control
    characters (stripped; the rest is sent), and a language the clone was not trained on (answered, with a
    note that it will be poor).
  * **What visitors tried:** each message is labelled with ``persona_lab.intents`` (ID number, password,
    phone, address, bank card, a relative's name, "are you an AI", jailbreak) and each reply checked for AI
    self-disclosure; ``visitor_report`` sums it (the admin dashboard and ``persona-lab chat export``).
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from persona_lab.intents import INTENTS, classify_message, discloses_ai
from persona_lab.ratings import wilson_interval
from persona_lab.serve.backend import Backend, ChatRequest, GenerationParams, stream_results
from persona_lab.serve.guard import ReplyGuard
from persona_lab.workspace.votes import ArenaError, ArenaStore, MessageError, check_message

# C0 and C1 control characters except tab and newline: they break terminals and logs and carry no meaning.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Letters of scripts the clones are trained on (Latin, CJK, kana); any other letter marks "another language".
_KNOWN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class RateLimited(ArenaError):
    """A visitor over ``messages_per_minute``."""


class NoConsent(ArenaError):
    """A message sent before the consent box was ticked; nothing was generated or stored."""


@dataclass(frozen=True)
class ChatLimits:
    messages_per_minute: int = 6
    max_turns: int = 20
    max_message_chars: int = 2000


@dataclass(frozen=True)
class Checked:
    """A visitor message after the input checks: the text to send and notes to show beside the reply."""

    text: str
    notes: tuple[str, ...]


def check_visitor_message(message: Any, max_chars: int) -> Checked:
    """The message to send, or ``MessageError`` with the reason. Control characters are removed (with a note);
    a message in a script the clone never saw is sent, with a note that the reply will be poor."""
    if not isinstance(message, str):
        raise MessageError(f"empty message: expected text, got {type(message).__name__}")
    cleaned = _CONTROL.sub("", message)
    notes = []
    if cleaned != message:
        if not cleaned.strip():
            raise MessageError("empty message: it held only control characters; type some text")
        notes.append("Control characters were removed from your message.")
    text = check_message(cleaned, max_chars)
    letters = [c for c in text if c.isalpha()]
    if letters and sum(bool(_KNOWN_LETTER.match(c)) for c in letters) < len(letters) / 2:
        notes.append("The clone learned from Chinese and English chats; in other languages its replies are poor.")
    return Checked(text, tuple(notes))


class RateLimiter:
    """At most ``per_minute`` accepted messages per key in any 60 seconds (a sliding window)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            window = self._seen.setdefault(key, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.per_minute:
                wait = 60 - (now - window[0])
                raise RateLimited(f"slow down: at most {self.per_minute} messages a minute; try again in "
                                  f"{max(1, round(wait))} s")
            window.append(now)


class ChatPage:
    """The chat page's logic without its UI: consent, limits, guarded streaming replies, scrubbed storage."""

    def __init__(self, backend: Backend, store: ArenaStore, guard: ReplyGuard, variant: str, *,
                 params: GenerationParams, limits: ChatLimits = ChatLimits(), persona_name: str = "the person",
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not guard.enabled:
            raise ArenaError("the chat page needs the reply guard on: it serves strangers")
        self.backend, self.store, self.guard, self.variant = backend, store, guard, variant
        self.params, self.limits, self.persona_name = params, limits, persona_name
        self.limiter = RateLimiter(limits.messages_per_minute, clock)

    def consent(self, agreed: bool) -> str:
        """The visitor id, created only now that they agreed (``NoConsent`` otherwise)."""
        if agreed is not True:
            raise NoConsent("tick the box to agree that this conversation is stored (scrubbed) before chatting")
        return self.store.add_visitor(True)

    def reply(self, visitor_id: str, conversation_id: str | None, history: list[dict], message: Any,
              ) -> Iterator[tuple[str, str, tuple[str, ...], bool]]:
        """Streams (conversation id, reply so far, notes, done). The message is checked first (a refusal
        raises ``ArenaError`` before anything is generated or stored); the finished turn is stored."""
        checked = check_visitor_message(message, self.limits.max_message_chars)
        self.limiter.take(visitor_id)
        if conversation_id is None:
            conversation_id = self.store.open_conversation(visitor_id, self.variant)
        elif len(history) // 2 >= self.limits.max_turns:  # saves a generation; the store checks it for real
            raise ArenaError(f"this conversation reached its {self.limits.max_turns} turns; start a new one")
        request = ChatRequest(self.variant, [*history, {"role": "user", "content": checked.text}], self.params)
        raw = ""
        for _, piece in stream_results(self.backend, [request]):
            raw += piece
            yield conversation_id, self.guard.visible(raw), checked.notes, False
        shown, events = self.guard.check(raw)
        self.store.add_chat_turn(
            conversation_id, self.guard.mask(checked.text), shown, intents=classify_message(checked.text),
            masked_real=sum(e.real for e in events), masked_invented=sum(not e.real for e in events),
            masked_types=[e.type for e in events], ai_disclosure=discloses_ai(raw),
            max_turns=self.limits.max_turns)
        yield conversation_id, shown, checked.notes, True


# ------------------------------------------------------------------------------------------ what visitors tried
def visitor_report(store: ArenaStore) -> dict[str, Any]:
    """Counts for the dashboard and the export: visitors, conversations, turns; intents by day (and in all);
    values the guard masked (by type; real ones and invented ones); AI self-disclosures per variant with a
    Wilson 95% interval; every turn where a real value was masked. ``intents_total[kind]`` sums
    ``intents_by_day[*][kind]``, and ``intents_total["messages"]`` equals ``turns``."""
    turns = store.chat_turns()
    by_day: dict[str, Counter] = {}
    for turn in turns:
        day = by_day.setdefault(turn["created"][:10], Counter())
        day.update(turn["intents"] or ["none"])
        day["messages"] += 1
    total = Counter()
    for day in by_day.values():
        total.update(day)
    by_type: Counter = Counter()
    disclosures: dict[str, list[int]] = {}
    for turn in turns:
        by_type.update(turn["masked_types"])
        seen = disclosures.setdefault(turn["variant"], [0, 0])
        seen[0] += bool(turn["ai_disclosure"])
        seen[1] += 1
    return {
        **store.chat_counts(),
        "intents_by_day": {day: dict(counts) for day, counts in sorted(by_day.items())},
        "intents_total": {kind: total[kind] for kind in (*INTENTS, "none", "messages")},
        "masked_by_type": dict(sorted(by_type.items())),
        "masked_real": sum(turn["masked_real"] for turn in turns),
        "masked_invented": sum(turn["masked_invented"] for turn in turns),
        "ai_disclosure": {variant: {"replies": n, "disclosures": k, "rate": k / n,
                                    "ci": list(wilson_interval(k, n))} for variant, (k, n) in disclosures.items()},
        "real_masked_turns": [{key: turn[key] for key in ("created", "conversation_id", "turn", "variant",
                                                          "message", "reply", "masked_types", "masked_real")}
                              for turn in turns if turn["masked_real"]],
    }


def dashboard_markdown(report: dict[str, Any]) -> str:
    lines = ["## What visitors tried", "",
             (f"{report['visitors']} visitors (who consented), {report['conversations']} conversations, "
             f"{report['turns']} messages."), ""]
    if report["intents_by_day"]:
        kinds = [*INTENTS, "none"]
        lines += ["| day | messages | " + " | ".join(kinds) + " |", "|---|---:|" + "---:|" * len(kinds)]
        for day, counts in report["intents_by_day"].items():
            lines.append(f"| {day} | {counts.get('messages', 0)} | "
                         + " | ".join(str(counts.get(k, 0)) for k in kinds) + " |")
        total = report["intents_total"]
        lines.append(f"| all | {total['messages']} | " + " | ".join(str(total[k]) for k in kinds) + " |")
        lines += ["", "A message can ask for several things, so a row's kinds may add up to more than its messages."]
    lines += ["", "### Guard events", ""]
    if report["masked_by_type"]:
        lines += [(f"{report['masked_real']} values of the person's real data and {report['masked_invented']} "
                  "invented look-alikes were masked in replies."), "", "| type | values masked |", "|---|---:|"]
        lines += [f"| {kind} | {n} |" for kind, n in report["masked_by_type"].items()]
    else:
        lines.append("No private-looking value in any reply.")
    lines += ["", "### AI self-disclosure in replies (\"as an AI language model\")", ""]
    if report["ai_disclosure"]:
        lines += ["| variant | disclosures | replies | rate (95% CI) |", "|---|---:|---:|---|"]
        for variant, row in report["ai_disclosure"].items():
            lines.append(f"| {variant} | {row['disclosures']} | {row['replies']} | {row['rate']:.1%} "
                         f"({row['ci'][0]:.1%}–{row['ci'][1]:.1%}) |")
    else:
        lines.append("No replies yet.")
    lines += ["", f"### Replies where a real value was masked ({len(report['real_masked_turns'])})", ""]
    for turn in report["real_masked_turns"]:
        lines.append(f"- {turn['created'][:19]} · {turn['conversation_id'][:8]} #{turn['turn']} · "
                     f"{', '.join(turn['masked_types'])}: **visitor:** {_one_line(turn['message'])} — "
                     f"**reply:** {_one_line(turn['reply'])}")
    return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + "…"


def admin_allowed(given: str | None, password: str | None) -> bool:
    """The dashboard's check: a password must be configured and match (compared in constant time)."""
    return bool(password) and isinstance(given, str) and hmac.compare_digest(given.encode(), password.encode())


# ------------------------------------------------------------------------------------------ the page
def banner(name: str) -> str:
    return (f"### 🤖 You are chatting with an AI clone of {name}, not with {name}.\n"
            f"It learned from {name}'s chats and can be wrong, rude or make things up; nothing it says is "
            f"{name}'s view. Private details are masked in its replies. Please do not share your own.")


CONSENT = ("I agree that my messages and the clone's replies are stored, with private details masked, so the "
           "lab can study what visitors ask.")


def add_chat_tabs(page: ChatPage, admin_password: Callable[[], str | None], avatar: str | None = None,
                  password_env: str = "the admin password variable") -> None:
    """The "Chat with me" and "Dashboard" tabs, inside an open ``gr.Blocks``."""
    import gradio as gr

    from persona_lab.arena.app import _text

    def send(message, agreed, visitor, conversation, history):
        history = _text(history)
        try:
            if not agreed:  # unticking the box stops storage too
                raise NoConsent("tick the box to agree that this conversation is stored (scrubbed) before "
                                "chatting")
            visitor = visitor or page.consent(True)
            shown = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
            for current, text, notes, done in page.reply(visitor, conversation, history, message):
                shown[-1]["content"] = text
                yield shown, visitor, current, " ".join(notes), "" if done else message
        except ArenaError as exc:
            yield history, visitor, conversation, f"⚠️ {exc}", message
        except Exception as exc:  # noqa: BLE001 - a backend failure: say so, store nothing
            yield history, visitor, conversation, f"⚠️ the clone could not reply ({exc}); try again", message

    def new_conversation():
        return [], None, "New conversation.", ""

    def dashboard(given):
        if not admin_password():
            return f"The dashboard is locked: set the environment variable {password_env} and restart."
        if not admin_allowed(given, admin_password()):
            return "⚠️ wrong password"
        return dashboard_markdown(visitor_report(page.store))

    with gr.Tab("Chat with me"):
        gr.Markdown(banner(page.persona_name))
        visitor, conversation = gr.State(None), gr.State(None)
        agreed = gr.Checkbox(label=CONSENT, value=False)
        chat = gr.Chatbot(label=page.persona_name, height=380, avatar_images=(None, avatar))
        box = gr.Textbox(label="Your message", placeholder=f"Say something to {page.persona_name}'s clone…")
        with gr.Row():
            send_button = gr.Button("Send", variant="primary")
            new_button = gr.Button("New conversation")
        status = gr.Markdown()
        inputs = [box, agreed, visitor, conversation, chat]
        outputs = [chat, visitor, conversation, status, box]
        send_button.click(send, inputs, outputs, api_name="chat_send")
        box.submit(send, inputs, outputs, api_name=False)
        new_button.click(new_conversation, None, [chat, conversation, status, box], api_name="chat_new")
    with gr.Tab("Dashboard"):
        given = gr.Textbox(label="Admin password", type="password")
        show = gr.Button("Show")
        report = gr.Markdown("Enter the admin password to see what visitors tried.")
        show.click(dashboard, given, report, api_name="chat_dashboard")


# ------------------------------------------------------------------------------------------ wiring
def make_chat_page(config: Any, variant: str, backend: Backend | None = None,
                   store: ArenaStore | None = None) -> ChatPage:
    """The lab's chat page for ``variant``: the lab's backend and store, the reply guard forced on."""
    from persona_lab.config import ConfigError
    from persona_lab.serve.factory import make_backend, make_guard

    backend = backend or make_backend(config)
    known = backend.variants()
    if variant not in known:
        raise ConfigError(f"unknown variant {variant!r} for the chat page. Available: {', '.join(known)}",
                          hint="pass --variant NAME or set arena.chat.variant")
    settings = config.arena.chat
    return ChatPage(backend, store or ArenaStore.for_lab(config), make_guard(config, enabled=True), variant,
                    params=GenerationParams(settings.max_tokens, config.arena.temperature, config.arena.top_p, None),
                    limits=ChatLimits(settings.messages_per_minute, settings.max_turns, settings.max_message_chars),
                    persona_name=config.persona_name or (config.me[0] if config.me else config.name))


def avatar_path(config: Any) -> str | None:
    avatar = config.arena.chat.avatar
    if avatar is None:
        return None
    path = config.resolve(avatar)
    if not path.is_file():
        from persona_lab.config import ConfigError

        raise ConfigError(f"arena.chat.avatar: no image at {path}", hint="give a PNG/JPEG path relative to the config")
    return str(path)


def admin_password_reader(config: Any) -> Callable[[], str | None]:
    """Reads the admin password from the environment at each use, so it is never kept in the page."""
    import os

    name = config.arena.chat.admin_password_env
    return lambda: os.environ.get(name) or None


def build_chat_app(page: ChatPage, admin_password: Callable[[], str | None], avatar: str | None = None,
                   password_env: str = "PERSONA_LAB_CHAT_ADMIN"):
    import gradio as gr

    with gr.Blocks(title=f"Chat with {page.persona_name}'s AI clone") as demo:
        add_chat_tabs(page, admin_password, avatar, password_env)
    return demo


def launch_chat(config: Any, variant: str, *, host: str | None = None, port: int | None = None,
                block: bool = True):
    page = make_chat_page(config, variant)
    demo = build_chat_app(page, admin_password_reader(config), avatar_path(config),
                          config.arena.chat.admin_password_env)
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=host or config.arena.host, server_port=port or config.arena.port,
                prevent_thread_lock=not block, quiet=True, show_error=True)
    return demo


def export_chat(store: ArenaStore, out_dir: Any) -> dict[str, Any]:
    """``turns.jsonl`` (every stored turn, already scrubbed), ``summary.json`` (``visitor_report``) and
    ``dashboard.md`` under ``out_dir``; returns the report."""
    import json
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = visitor_report(store)
    with (out / "turns.jsonl").open("w", encoding="utf-8") as handle:
        for turn in store.chat_turns():
            handle.write(json.dumps(turn, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    (out / "dashboard.md").write_text(dashboard_markdown(report), "utf-8")
    return report

"""The arena's store: raters, battles and their turns, votes, "Real or clone?" guesses and 1-5 ratings.

One SQLAlchemy Core schema, two deployments:
  SQLite      the default, one file ``results/<lab>/arena.db`` (``ArenaStore.for_path``). WAL journal, so
              readers never block the writer; ``synchronous=FULL``, so a committed vote is on disk before
              the UI says "recorded"; a busy timeout, so concurrent writers wait instead of failing; and
              every write transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock up front
              (a deferred BEGIN that later upgrades to a writer can fail with "database is locked" at once).
  PostgreSQL  ``arena.db_url`` (e.g. ``postgresql+psycopg://user@host/db``) for a shared deployment where
              several app processes write to one database. Rows are locked with ``SELECT ... FOR UPDATE``.

Rules the store enforces (not the page, so a second tab, a replayed request or a race cannot break them):
  - A vote is one transaction: the battle must exist, belong to the voter, be "open" and have at least one
    turn; the vote row is inserted and the battle set to "voted" together. ``votes.battle_id`` is UNIQUE, so
    two racing votes on one battle leave exactly one row even where the row lock is not taken.
  - Only the rater who opened a battle may vote on it: a battle is one rater's blind conversation, and
    nobody else has seen its replies. Another rater gets ``NotYourBattle``.
  - A battle whose reply failed (or revealed a variant's name) is marked "failed": it takes no more turns
    and no vote, so it is never counted.
  - Messages are validated by ``check_message`` (empty or over the limit is refused with a clear message
    and nothing is stored). Every refusal is an ``ArenaError`` subclass whose text can be shown to a rater.
  - Guesses and ratings are not deduplicated here: a "Real or clone?" round or a rating item is consumed
    by the arena logic that hands it out.
Trade-off: the store never deletes or edits a vote; correcting data is done on an export.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from persona_lab.errors import PersonaLabError
from persona_lab.ratings import WINNERS

STATUSES = ("open", "failed", "voted")
GROUPS = ("owner", "friends", "strangers")
"""Who a rater is, for the separate boards: the person, the friends of a private arena, strangers of a public one."""
MAX_MESSAGE_CHARS = 4000
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100
SQLITE_BUSY_TIMEOUT_MS = 30_000


# ------------------------------------------------------------------------------------------------ errors

class ArenaError(PersonaLabError):
    """A refusal the arena can show to a rater as it is; nothing was stored."""


class InvalidInput(ArenaError, ValueError):
    """A value that cannot be stored (bad winner, score, note, name or variant)."""


class MessageError(InvalidInput):
    """An empty or over-long chat message."""


class BadWinner(InvalidInput):
    """A winner that is not one of WINNERS."""


class UnknownRater(ArenaError, LookupError):
    pass


class UnknownBattle(ArenaError, LookupError):
    pass


class NotYourBattle(ArenaError):
    pass


class AlreadyVoted(ArenaError):
    pass


class BattleFailed(ArenaError):
    pass


class NoTurnsYet(ArenaError):
    pass


class VoteCapReached(ArenaError):
    """The rater has cast the day's allowed votes (``arena.daily_vote_cap``)."""


class ConsentRequired(ArenaError):
    """A chat visitor who has not ticked the consent box: nothing of theirs may be stored."""


class TurnLimitReached(ArenaError):
    """A chat conversation at ``arena.chat.max_turns``."""


class UnknownConversation(ArenaError, LookupError):
    pass


class StoreUnavailable(ArenaError):
    """The database could not be reached or stayed locked past the timeout; nothing was stored."""


# ------------------------------------------------------------------------------------------------ schema

metadata = MetaData()


def _now() -> datetime:
    return datetime.now(UTC)


def _created() -> Column:
    return Column("created", DateTime(timezone=True), nullable=False, default=_now)


raters = Table(
    "raters", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(MAX_NAME_CHARS)),
    Column("is_person", Boolean, nullable=False, default=False),
    _created(),
)

rater_groups = Table(
    # Its own table rather than a column of ``raters``: create_all adds a missing table to an existing
    # arena.db but never a missing column. A rater without a row here is "owner" if is_person, else "friends"
    # (every arena before groups existed was a private one).
    "rater_groups", metadata,
    Column("rater_id", String(32), ForeignKey("raters.id"), primary_key=True),
    Column("grp", String(16), nullable=False),
    CheckConstraint(f"grp IN ({', '.join(repr(g) for g in GROUPS)})", name="rater_group"),
)

battles = Table(
    "battles", metadata,
    Column("id", String(32), primary_key=True),
    Column("rater_id", String(32), ForeignKey("raters.id"), nullable=False, index=True),
    Column("variant_a", String(200), nullable=False),
    Column("variant_b", String(200), nullable=False),
    _created(),
    Column("status", String(8), nullable=False, default="open"),
    Column("turns", Integer, nullable=False, default=0),
    CheckConstraint("status IN ('open', 'failed', 'voted')", name="battle_status"),
    CheckConstraint("turns >= 0", name="battle_turns_nonnegative"),
)

battle_turns = Table(
    "battle_turns", metadata,
    Column("battle_id", String(32), ForeignKey("battles.id"), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("user_message", Text, nullable=False),
    Column("reply_a", Text, nullable=False),
    Column("reply_b", Text, nullable=False),
    _created(),
    PrimaryKeyConstraint("battle_id", "turn", name="battle_turns_pk"),
)

votes = Table(
    "votes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("battle_id", String(32), ForeignKey("battles.id"), nullable=False, unique=True),
    Column("rater_id", String(32), ForeignKey("raters.id"), nullable=False, index=True),
    Column("winner", String(16), nullable=False),
    Column("variant_a", String(200), nullable=False),
    Column("variant_b", String(200), nullable=False),
    _created(),
    CheckConstraint(f"winner IN ({', '.join(repr(w) for w in WINNERS)})", name="vote_winner"),
)

guesses = Table(
    "guesses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rater_id", String(32), ForeignKey("raters.id"), nullable=False, index=True),
    Column("item_id", String(200), nullable=False),
    Column("variant", String(200), nullable=False, index=True),
    Column("picked_real", Boolean, nullable=False),
    Column("fooled", Boolean, nullable=False),
    _created(),
)

ratings = Table(
    "ratings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rater_id", String(32), ForeignKey("raters.id"), nullable=False, index=True),
    Column("variant", String(200), nullable=False, index=True),
    Column("item_ref", String(200), nullable=False),
    Column("score", Integer, nullable=False),
    Column("note", Text),
    _created(),
    CheckConstraint("score BETWEEN 1 AND 5", name="rating_score_1_5"),
)


# The public chat page (persona_lab/arena/chat.py). A visitor row exists only once they ticked the consent
# box; messages are stored scrubbed (what they typed, private-looking values masked) and replies as shown
# (after the reply guard), with what the message asked for and what the guard masked.
chat_visitors = Table(
    "chat_visitors", metadata,
    Column("id", String(32), primary_key=True),
    Column("consented", DateTime(timezone=True), nullable=False),
    _created(),
)

chat_conversations = Table(
    "chat_conversations", metadata,
    Column("id", String(32), primary_key=True),
    Column("visitor_id", String(32), ForeignKey("chat_visitors.id"), nullable=False, index=True),
    Column("variant", String(200), nullable=False),
    Column("turns", Integer, nullable=False, default=0),
    _created(),
    CheckConstraint("turns >= 0", name="chat_turns_nonnegative"),
)

chat_turns = Table(
    "chat_turns", metadata,
    Column("conversation_id", String(32), ForeignKey("chat_conversations.id"), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("reply", Text, nullable=False),
    Column("intents", String(200), nullable=False, default=""),  # comma-separated persona_lab.intents kinds
    Column("masked_real", Integer, nullable=False, default=0),  # values of my real data the guard masked
    Column("masked_invented", Integer, nullable=False, default=0),  # private-looking values the model made up
    Column("masked_types", Text, nullable=False, default=""),  # one per masked value, e.g. "ID,ID,PHONE"
    Column("ai_disclosure", Boolean, nullable=False, default=False),
    _created(),
    PrimaryKeyConstraint("conversation_id", "turn", name="chat_turns_pk"),
)


# ------------------------------------------------------------------------------------------------ values

@dataclass(frozen=True)
class VoteResult:
    """A recorded (committed) vote, with the variants it unblinds."""

    vote_id: int
    battle_id: str
    winner: str
    variant_a: str
    variant_b: str


def _clean(text: str) -> str:
    """Text both databases accept: PostgreSQL refuses NUL, and neither driver encodes lone surrogates."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def check_message(text: str, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """The message a rater typed, stripped, or ``MessageError`` saying why it cannot be sent."""
    if not isinstance(text, str):
        raise MessageError(f"empty message: expected text, got {type(text).__name__}")
    text = _clean(text).strip()
    if not text:
        raise MessageError("empty message: type something first")
    if len(text) > max_chars:
        raise MessageError(f"message too long: {len(text):,} characters; the limit is {max_chars:,}")
    return text


def _short(value: Any, what: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r}"[:300])
    value = _clean(value.strip())
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long: {len(value):,} characters; the limit is {limit:,}")
    return value


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no zone; the store only ever writes UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


# ------------------------------------------------------------------------------------------------ store

class ArenaStore:
    """Votes, battles, ratings and raters in one database (SQLite file or PostgreSQL URL).

    Thread-safe: each call checks a connection out of the engine's pool and runs one transaction.
    """

    def __init__(self, url: str | URL, *, max_message_chars: int = MAX_MESSAGE_CHARS,
                 daily_vote_cap: int | None = None) -> None:
        """``daily_vote_cap``: votes one rater may cast in any 24 hours (None: no cap)."""
        self.url = make_url(url)
        self.max_message_chars = max_message_chars
        self.daily_vote_cap = daily_vote_cap
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine: Engine = create_engine(self.url, pool_size=10, max_overflow=20, pool_timeout=60)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(self.url, pool_size=10, max_overflow=20, pool_timeout=60,
                                        pool_pre_ping=True)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreUnavailable(f"cannot open the arena database {self}: {exc.orig}") from exc

    @classmethod
    def for_lab(cls, config: Any, *, must_exist: bool = False) -> ArenaStore | None:
        """The lab's store: ``arena.db_url`` when set, else ``<workspace>/arena.db``. With ``must_exist``, a
        lab without a SQLite file yet gives None instead of creating one (readers such as persona-eval)."""
        cap = config.arena.daily_vote_cap
        if config.arena.db_url:
            return cls(config.arena.db_url, daily_vote_cap=cap)
        path = config.paths.arena_db
        if must_exist and not path.exists():
            return None
        return cls.for_path(path, daily_vote_cap=cap)

    def rating_votes(self, include_person: bool | None = None, with_raters: bool = False,
                     group: str | None = None) -> list[dict[str, Any]]:
        """Votes in the shape the rating maths takes: ``{"model_a", "model_b", "winner", "len_a", "len_b"}``
        (characters of each side's replies over the battle's turns, for the style-controlled fit), and
        ``rater_id`` and ``group`` ``with_raters``. ``group``: only that board's votes (see ``GROUPS``).

        Every vote here is blind: the store takes a vote only on an open battle, and names are shown only
        after it (``Arena.vote``), so no vote can be cast knowing which variant is which."""
        if group is not None and group not in GROUPS:
            raise InvalidInput(f"unknown rater group {group!r}; expected one of: {', '.join(GROUPS)}")
        lengths = self._reply_lengths()
        out = []
        for v in self.votes(include_person=include_person):
            if group is not None and v["group"] != group:
                continue
            len_a, len_b = lengths.get(v["battle_id"], (0, 0))
            out.append({"model_a": v["variant_a"], "model_b": v["variant_b"], "winner": v["winner"],
                        "len_a": len_a, "len_b": len_b,
                        **({"rater_id": v["rater_id"], "group": v["group"]} if with_raters else {})})
        return out

    def _reply_lengths(self) -> dict[str, tuple[int, int]]:
        """battle id -> (characters of all A replies, of all B replies), for voted battles."""
        query = (select(battle_turns.c.battle_id, func.sum(func.length(battle_turns.c.reply_a)),
                        func.sum(func.length(battle_turns.c.reply_b)))
                 .join(votes, votes.c.battle_id == battle_turns.c.battle_id)
                 .group_by(battle_turns.c.battle_id))
        with self._tx(write=False) as conn:
            return {battle: (int(a or 0), int(b or 0)) for battle, a, b in conn.execute(query).all()}

    @classmethod
    def for_path(cls, path: Path, **kwargs: Any) -> ArenaStore:
        """The default store: one SQLite file (``results/<lab>/arena.db``), created with its folder."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(URL.create("sqlite", database=str(path.resolve())), **kwargs)

    def __repr__(self) -> str:
        return f"ArenaStore({self.url.render_as_string(hide_password=True)!r})"

    __str__ = __repr__

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Connection]:
        """One transaction; commits on success, rolls back on any exception (an ArenaError included)."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(arena_write=write)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StoreUnavailable(f"the arena database is unavailable, nothing was stored: {exc.orig}") from exc

    # -------------------------------------------------------------------------------------- raters

    def add_rater(self, name: str | None, is_person: bool, group: str = "friends") -> str:
        """A new rater id (uuid4 hex). ``is_person``: the person the clones imitate (their votes are
        reported apart, on the "owner" board, whatever ``group`` says); ``group``: "friends" or "strangers"."""
        if not isinstance(is_person, bool):
            raise InvalidInput(f"is_person must be True or False, got {is_person!r}")
        if group not in GROUPS:
            raise InvalidInput(f"unknown rater group {group!r}; expected one of: {', '.join(GROUPS)}")
        group = "owner" if is_person else group
        if name is not None:
            if not isinstance(name, str):
                raise InvalidInput(f"rater name must be text, got {type(name).__name__}")
            name = _clean(name).strip() or None
            if name is not None and len(name) > MAX_NAME_CHARS:
                raise InvalidInput(f"rater name is too long: {len(name):,} characters; the limit is "
                                   f"{MAX_NAME_CHARS}")
        rater_id = uuid.uuid4().hex
        with self._tx() as conn:
            conn.execute(insert(raters).values(id=rater_id, name=name, is_person=is_person))
            conn.execute(insert(rater_groups).values(rater_id=rater_id, grp=group))
        return rater_id

    def rater(self, rater_id: str) -> dict[str, Any]:
        with self._tx(write=False) as conn:
            row = conn.execute(select(raters).where(raters.c.id == str(rater_id))).mappings().first()
        if row is None:
            raise UnknownRater(f"unknown rater {rater_id!r}: reload the page to get a new rater id")
        return {**row, "created": _iso(row["created"])}

    # -------------------------------------------------------------------------------------- battles

    def open_battle(self, rater_id: str, a: str, b: str) -> str:
        """A new open battle of variant ``a`` (shown as A) against ``b`` (shown as B); its id (uuid4 hex)."""
        a, b = _short(a, "variant a"), _short(b, "variant b")
        if a == b:
            raise InvalidInput(f"a battle needs two different variants, got {a!r} twice")
        battle_id = uuid.uuid4().hex
        with self._tx() as conn:
            self._need_rater(conn, rater_id)
            conn.execute(insert(battles).values(id=battle_id, rater_id=rater_id, variant_a=a, variant_b=b,
                                                status="open", turns=0))
        return battle_id

    def add_turn(self, battle_id: str, user_message: str, reply_a: str, reply_b: str) -> int:
        """Store one exchange of an open battle; returns its turn number (1, 2, ...).

        The message is checked with ``check_message`` (stored stripped); replies are stored as given.
        """
        message = check_message(user_message, self.max_message_chars)
        for side, reply in (("A", reply_a), ("B", reply_b)):
            if not isinstance(reply, str):
                raise InvalidInput(f"reply {side} must be text, got {type(reply).__name__}")
        with self._tx() as conn:
            battle = self._locked_battle(conn, battle_id)
            if battle["status"] == "voted":
                raise AlreadyVoted("this battle was already voted on; start a new battle")
            if battle["status"] == "failed":
                raise BattleFailed("this battle failed and is not counted; start a new battle")
            turn = battle["turns"] + 1
            conn.execute(insert(battle_turns).values(battle_id=battle_id, turn=turn, user_message=message,
                                                     reply_a=_clean(reply_a), reply_b=_clean(reply_b)))
            conn.execute(update(battles).where(battles.c.id == battle_id).values(turns=turn))
        return turn

    def mark_failed(self, battle_id: str) -> None:
        """Exclude a battle whose reply failed (or gave a variant away): no more turns, no vote.
        Idempotent on a failed battle; a voted battle keeps its vote (``AlreadyVoted``)."""
        with self._tx() as conn:
            battle = self._locked_battle(conn, battle_id)
            if battle["status"] == "voted":
                raise AlreadyVoted("this battle was already voted on; its vote stands")
            if battle["status"] == "open":
                conn.execute(update(battles).where(battles.c.id == battle_id).values(status="failed"))

    def record_vote(self, battle_id: str, rater_id: str, winner: str) -> VoteResult:
        """Record the vote in one transaction; when this returns, the vote is committed (durable)."""
        if winner not in WINNERS:
            raise BadWinner(f"unknown vote {winner!r}; expected one of: {', '.join(WINNERS)}")
        try:
            with self._tx() as conn:
                battle = self._locked_battle(conn, battle_id)
                if battle["rater_id"] != rater_id:
                    raise NotYourBattle("this battle belongs to another rater; start your own battle")
                if battle["status"] == "voted":
                    raise AlreadyVoted("this battle was already voted on; start a new battle")
                if battle["status"] == "failed":
                    raise BattleFailed("a reply in this battle failed, so it is not counted; start a new battle")
                if battle["turns"] < 1:
                    raise NoTurnsYet("send a message and read both replies before voting")
                self._check_vote_cap(conn, rater_id)
                vote_id = conn.execute(insert(votes).values(
                    battle_id=battle_id, rater_id=rater_id, winner=winner,
                    variant_a=battle["variant_a"], variant_b=battle["variant_b"])).inserted_primary_key[0]
                closed = conn.execute(update(battles)
                                      .where(battles.c.id == battle_id, battles.c.status == "open")
                                      .values(status="voted")).rowcount
                if closed != 1:  # someone changed the battle between our read and write
                    raise AlreadyVoted("this battle was already voted on; start a new battle")
        except IntegrityError as exc:  # the UNIQUE battle_id: a concurrent vote won
            raise AlreadyVoted("this battle was already voted on; start a new battle") from exc
        return VoteResult(int(vote_id), battle_id, winner, battle["variant_a"], battle["variant_b"])

    def battle(self, battle_id: str) -> dict[str, Any]:
        """A battle with its turns (for the UI to restore a conversation, and for exports)."""
        with self._tx(write=False) as conn:
            row = conn.execute(select(battles).where(battles.c.id == str(battle_id))).mappings().first()
            if row is None:
                raise UnknownBattle(f"unknown battle {battle_id!r}; start a new battle")
            turns = conn.execute(select(battle_turns).where(battle_turns.c.battle_id == battle_id)
                                 .order_by(battle_turns.c.turn)).mappings().all()
        return {**row, "created": _iso(row["created"]),
                "turn_list": [{**t, "created": _iso(t["created"])} for t in turns]}

    def battle_variants(self, battle_id: str) -> tuple[str, str]:
        """(variant shown as A, variant shown as B)."""
        with self._tx(write=False) as conn:
            row = conn.execute(select(battles.c.variant_a, battles.c.variant_b)
                               .where(battles.c.id == str(battle_id))).first()
        if row is None:
            raise UnknownBattle(f"unknown battle {battle_id!r}; start a new battle")
        return row[0], row[1]

    def battle_pairs(self) -> list[tuple[str, str]]:
        """(a, b) of every battle that is not failed, open ones included, for balancing pair draws."""
        with self._tx(write=False) as conn:
            rows = conn.execute(select(battles.c.variant_a, battles.c.variant_b)
                                .where(battles.c.status != "failed")).all()
        return [(a, b) for a, b in rows]

    # -------------------------------------------------------------------------------------- guesses, ratings

    def record_guess(self, rater_id: str, item_id: str, variant: str, picked_real: bool,
                     fooled: bool | None = None) -> int:
        """One "Real or clone?" judgement on held-out item ``item_id`` against ``variant``'s reply.
        ``picked_real``: the rater picked the real reply; ``fooled`` defaults to ``not picked_real`` (the
        side-by-side round, where missing the real reply means taking the clone for it). Returns its id."""
        item_id, variant = _short(item_id, "item id"), _short(variant, "variant")
        if fooled is None:
            fooled = not picked_real
        if not isinstance(picked_real, bool) or not isinstance(fooled, bool):
            raise InvalidInput(f"picked_real and fooled must be True or False, got {picked_real!r}, {fooled!r}")
        with self._tx() as conn:
            self._need_rater(conn, rater_id)
            result = conn.execute(insert(guesses).values(rater_id=rater_id, item_id=item_id, variant=variant,
                                                         picked_real=picked_real, fooled=fooled))
        return int(result.inserted_primary_key[0])

    def record_rating(self, rater_id: str, variant: str, item_ref: str, score: int,
                      note: str | None = None) -> int:
        """A 1-5 "sounds like me" score of one reply by ``variant`` (``item_ref`` names the reply), with an
        optional note of at most 2000 characters. Returns its id."""
        variant, item_ref = _short(variant, "variant"), _short(item_ref, "item reference")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput(f"score must be a whole number from 1 to 5, got {score!r}")
        if note is not None:
            if not isinstance(note, str):
                raise InvalidInput(f"note must be text, got {type(note).__name__}")
            note = _clean(note).strip() or None
            if note is not None and len(note) > MAX_NOTE_CHARS:
                raise InvalidInput(f"note too long: {len(note):,} characters; the limit is {MAX_NOTE_CHARS:,}")
        with self._tx() as conn:
            self._need_rater(conn, rater_id)
            result = conn.execute(insert(ratings).values(rater_id=rater_id, variant=variant, item_ref=item_ref,
                                                         score=score, note=note))
        return int(result.inserted_primary_key[0])

    # -------------------------------------------------------------------------------------- chat page

    def add_visitor(self, consented: bool) -> str:
        """A chat visitor id (uuid4 hex), only for one who ticked the consent box (``ConsentRequired``
        otherwise): without consent nothing of theirs is stored, not even that they came."""
        if consented is not True:
            raise ConsentRequired("tick the box to agree that this conversation is stored (scrubbed) first")
        visitor_id = uuid.uuid4().hex
        with self._tx() as conn:
            conn.execute(insert(chat_visitors).values(id=visitor_id, consented=_now()))
        return visitor_id

    def open_conversation(self, visitor_id: str, variant: str) -> str:
        """A new conversation of ``visitor_id`` with ``variant``; its id (uuid4 hex)."""
        variant = _short(variant, "variant")
        conversation_id = uuid.uuid4().hex
        with self._tx() as conn:
            if conn.execute(select(chat_visitors.c.id).where(chat_visitors.c.id == str(visitor_id))).first() is None:
                raise ConsentRequired("unknown visitor: tick the consent box again (reload the page)")
            conn.execute(insert(chat_conversations).values(id=conversation_id, visitor_id=visitor_id,
                                                           variant=variant, turns=0))
        return conversation_id

    def add_chat_turn(self, conversation_id: str, message: str, reply: str, *, intents: list[str] = (),
                      masked_real: int = 0, masked_invented: int = 0, masked_types: list[str] = (),
                      ai_disclosure: bool = False, max_turns: int | None = None) -> int:
        """Store one exchange (the message already scrubbed, the reply as shown); its turn number. The turn
        limit is checked here, under the conversation's row lock, so two tabs cannot pass it together."""
        message = check_message(message, self.max_message_chars)
        if not isinstance(reply, str):
            raise InvalidInput(f"reply must be text, got {type(reply).__name__}")
        with self._tx() as conn:
            row = conn.execute(select(chat_conversations).where(chat_conversations.c.id == str(conversation_id))
                               .with_for_update()).mappings().first()
            if row is None:
                raise UnknownConversation(f"unknown conversation {conversation_id!r}; start a new one")
            if max_turns is not None and row["turns"] >= max_turns:
                raise TurnLimitReached(f"this conversation reached its {max_turns} turns; start a new one")
            turn = row["turns"] + 1
            conn.execute(insert(chat_turns).values(
                conversation_id=conversation_id, turn=turn, message=message, reply=_clean(reply),
                intents=",".join(intents), masked_real=int(masked_real), masked_invented=int(masked_invented),
                masked_types=",".join(sorted(masked_types)), ai_disclosure=bool(ai_disclosure)))
            conn.execute(update(chat_conversations).where(chat_conversations.c.id == conversation_id)
                         .values(turns=turn))
        return turn

    def chat_turns(self) -> list[dict[str, Any]]:
        """Every stored chat turn, oldest first, with its conversation's visitor and variant; ``intents`` and
        ``masked_types`` as lists."""
        query = (select(chat_turns, chat_conversations.c.visitor_id, chat_conversations.c.variant)
                 .join(chat_conversations, chat_conversations.c.id == chat_turns.c.conversation_id)
                 .order_by(chat_turns.c.created, chat_turns.c.conversation_id, chat_turns.c.turn))
        rows = self._rows(query)
        for row in rows:
            row["intents"] = [k for k in row["intents"].split(",") if k]
            row["masked_types"] = [k for k in row["masked_types"].split(",") if k]
        return rows

    def chat_counts(self) -> dict[str, int]:
        """visitors (who consented), conversations, turns."""
        with self._tx(write=False) as conn:
            return {name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                    for name, table in (("visitors", chat_visitors), ("conversations", chat_conversations),
                                        ("turns", chat_turns))}

    # -------------------------------------------------------------------------------------- reading

    def votes(self, include_person: bool | None = None) -> list[dict[str, Any]]:
        """Every vote, oldest first: id, battle_id, rater_id, is_person, group, winner, variant_a, variant_b,
        turns, created (ISO 8601, UTC). ``include_person``: None = all raters, True = only the person's own votes,
        False = everyone but the person."""
        query = (select(votes.c.id, votes.c.battle_id, votes.c.rater_id, raters.c.is_person, rater_groups.c.grp,
                        votes.c.winner, votes.c.variant_a, votes.c.variant_b, battles.c.turns, votes.c.created)
                 .join(raters, raters.c.id == votes.c.rater_id)
                 .outerjoin(rater_groups, rater_groups.c.rater_id == votes.c.rater_id)
                 .join(battles, battles.c.id == votes.c.battle_id)
                 .order_by(votes.c.id))
        if include_person is not None:
            query = query.where(raters.c.is_person == include_person)
        rows = self._rows(query)
        for row in rows:  # raters from before groups existed: the person, or a friend of a private arena
            row["group"] = row.pop("grp") or ("owner" if row["is_person"] else "friends")
        return rows

    def guesses(self) -> list[dict[str, Any]]:
        """Every guess, oldest first, with the rater's is_person flag."""
        return self._rows(select(guesses, raters.c.is_person).join(raters, raters.c.id == guesses.c.rater_id)
                          .order_by(guesses.c.id))

    def ratings(self) -> list[dict[str, Any]]:
        """Every rating, oldest first, with the rater's is_person flag."""
        return self._rows(select(ratings, raters.c.is_person).join(raters, raters.c.id == ratings.c.rater_id)
                          .order_by(ratings.c.id))

    def export_votes_jsonl(self, path: Path, include_person: bool | None = None) -> int:
        """Write ``votes(include_person)`` as JSON lines (atomically replaced); returns the number of votes."""
        rows = self.votes(include_person)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        return len(rows)

    def counts(self) -> dict[str, int]:
        """raters, battles, battles_open, battles_failed, battles_voted, turns, votes, guesses, ratings."""
        with self._tx(write=False) as conn:
            out = {name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                   for name, table in (("raters", raters), ("battles", battles), ("turns", battle_turns),
                                       ("votes", votes), ("guesses", guesses), ("ratings", ratings))}
            by_status = dict(conn.execute(select(battles.c.status, func.count()).group_by(battles.c.status)).all())
        for status in STATUSES:
            out[f"battles_{status}"] = int(by_status.get(status, 0))
        return out

    # -------------------------------------------------------------------------------------- helpers

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        with self._tx(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [{**row, "created": _iso(row["created"])} for row in rows]

    def _check_vote_cap(self, conn: Connection, rater_id: str) -> None:
        """Refuse a vote beyond ``daily_vote_cap`` in the last 24 hours. Runs inside the vote's transaction,
        after the battle row is locked; two racing votes of one rater on two battles could both pass on
        PostgreSQL (different rows locked), so the cap can be exceeded by the number of a rater's tabs, never
        by more."""
        if self.daily_vote_cap is None:
            return
        since = _now() - timedelta(hours=24)
        cast = conn.execute(select(func.count()).select_from(votes)
                            .where(votes.c.rater_id == rater_id, votes.c.created >= since)).scalar_one()
        if cast >= self.daily_vote_cap:
            raise VoteCapReached(f"you have cast {cast} votes in the last 24 hours, the most one rater may; "
                                 "thank you, come back tomorrow")

    @staticmethod
    def _need_rater(conn: Connection, rater_id: str) -> None:
        if conn.execute(select(raters.c.id).where(raters.c.id == str(rater_id))).first() is None:
            raise UnknownRater(f"unknown rater {rater_id!r}: reload the page to get a new rater id")

    @staticmethod
    def _locked_battle(conn: Connection, battle_id: str) -> Any:
        """The battle row, locked until the transaction ends (FOR UPDATE; SQLite holds the write lock)."""
        row = conn.execute(select(battles).where(battles.c.id == str(battle_id)).with_for_update()).mappings().first()
        if row is None:
            raise UnknownBattle(f"unknown battle {battle_id!r}; start a new battle")
        return row


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")  # persistent: stored in the file
    cursor.execute("PRAGMA synchronous = FULL")  # fsync the WAL on every commit: a recorded vote survives
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
    dbapi_connection.isolation_level = None  # the "begin" event below emits BEGIN itself


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("arena_write", True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

"""Public pages rendered once and served to every anonymous reader, never stale after a write.

A read model (above the domains): it knows which page shows what, for SPEC §7's speed.

What is cached: the anonymous GETs of the pages decorated with `@page(...)` (home, the
consultation list, a consultation, its report, policies, the statistics), as whole HTML, in
Flask-Caching's store: a folder (`FileSystemCache`, shared by the workers of one host) on a
laptop, Redis when `REDIS_URL` is set (shared by every host). Nothing else: a signed-in staff
member or citizen, a visitor with a message flashed to them, a POST, an error — all are
rendered as before and never stored.

Never stale: a page's key holds the path, the query parameters the page reads, the language, a
version of the templates and a *stamp* per scope it depends on — `site` and the consultation's
own for a consultation and its report, `any` for pages that list many. Which writes touch which
scope is decided here, once, from the database session (`_track`, `_scopes_of`): every object
flushed (new, changed, deleted) is mapped to its consultation, or to the whole site when it has
none (a unit, a catalogue item, a bulk UPDATE); when the transaction commits, the stamps of
those scopes get new random values, so the next reader's key is new and the page is rendered
again. A rollback forgets what was tracked. A stamp that the store lost is a new random one:
a missing stamp can never bring an old page back.

Never past the clock: opening and closing happen by the clock, not by a write, so a page is
kept at most until the next moment its content changes by time alone — the consultation's next
opening or closing (`expires_by`), for lists the next one of any consultation, and in any case
the next local midnight ("n days left") — and never longer than `PAGE_CACHE_TTL`.

Never one visitor's data for another: only pages rendered for a visitor without a session
identity are stored; the one per-visitor item such a page holds, a form's CSRF token, is stored
as a placeholder and filled in for each visitor when the page is served (their own session's
token; a first visitor's session cookie is theirs alone). Such a page is `private`; a page
without a form is `public` for a short `s-maxage` (`PAGE_CACHE_PROXY_SECONDS`), which nginx in
front honours (docs/deploy/nginx-consult.conf), and `max-age=0` with an ETag for browsers, so a
reader who comes back after commenting sees their comment (a 304 when nothing changed).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import mmap
import os
import secrets
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path

from flask import Flask, Response, current_app, g, has_app_context, make_response, request, session
from flask_caching import Cache
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from consult import clock, database, signals
from consult.answers.models import Disposition, Report
from consult.comments.models import Comment
from consult.config import site_identity
from consult.consultations import queries
from consult.consultations.models import Article, Consultation, DraftVersion
from consult.consultations.states import next_change
from consult.hearings.models import Hearing, HearingParticipant
from consult.i18n import large_remembered, select_locale
from consult.policies.models import Interpretation, Policy

log = logging.getLogger(__name__)

cache = Cache()

SITE = "site"  # every page
ANY = "any"  # pages that show more than one consultation; bumped by every tracked write
# The statistics (/stats): bumped by what changes their figures at once — a consultation, a
# report, a policy or an interpretation written (and `site`) — not by comments, which the
# statistics count again after STATS_MAX_AGE (consult/oversight/stats.py).
STATS = "stats"
STATS_MODELS = (Consultation, Report, Policy, Interpretation)
_PENDING = "pagecache.pending"

# Tables whose rows no public page shows: writing them keeps every page.
UNSEEN_TABLES = frozenset({
    "answer_sheet_imports", "audit_events", "built_files", "citizens", "consultation_subscriptions",
    "digest_runs", "jobs", "login_throttles", "memberships", "outbox_messages",
    "reason_templates", "scheduled_tasks", "users",
    # the statistics' snapshots (a GET may write one) and the reminders: no cached page shows
    # them (/stats keeps its own pages by snapshot); saved `settings` do show (the footer)
    "reminder_opt_outs", "sent_reminders", "stats_snapshots",
})

# Session keys and cookies that make a request someone's (staff, citizen) or carry a message.
_IDENTITY_KEYS = ("_user_id", "citizen_id", "_flashes")


def consultation_scope(consultation_id: int) -> str:
    return f"c{consultation_id}"


# ------------------------------------------------------------------------ what a write touches


def _scopes_of(obj) -> set[str] | None:
    """The scopes an object's change shows on (beside `any`); None: no public page shows it."""
    table = getattr(obj, "__tablename__", None)
    if table in UNSEEN_TABLES:
        return None
    session = object_session(obj)
    if isinstance(obj, Consultation):
        return {consultation_scope(obj.id)}
    if isinstance(obj, Disposition):
        comment = session.get(Comment, obj.comment_id) if session else None
        return _of_consultation(comment.consultation_id if comment else None)
    if isinstance(obj, Article):
        version = session.get(DraftVersion, obj.version_id) if session else None
        return _of_consultation(version.consultation_id if version else None)
    if isinstance(obj, HearingParticipant):
        hearing = session.get(Hearing, obj.hearing_id) if session else None
        return _of_consultation(hearing.consultation_id if hearing else None)
    if isinstance(obj, Interpretation):
        policy = session.get(Policy, obj.policy_id) if session else None
        return _of_consultation(policy.consultation_id if policy else None, default=set())
    if isinstance(obj, Policy):
        return _of_consultation(obj.consultation_id, default=set())
    if table == "attachments":
        return _of_attachment(obj, session)
    if "consultation_id" in getattr(obj, "__table__", {}).c:
        return _of_consultation(obj.consultation_id)
    return {SITE}  # a unit, a catalogue item, anything unforeseen: every page


def _of_consultation(consultation_id: int | None, *, default: set[str] | None = None) -> set[str]:
    if consultation_id is None:
        return {SITE} if default is None else default
    return {consultation_scope(consultation_id)}


def _of_attachment(obj, session) -> set[str]:
    owners = {"consultation": Consultation, "comment": Comment, "hearing": Hearing}
    model = owners.get(obj.owner_type)
    owner = session.get(model, obj.owner_id) if model is not None and session else None
    if isinstance(owner, Consultation):
        return {consultation_scope(owner.id)}
    if owner is not None:
        return _of_consultation(owner.consultation_id)
    return {SITE}


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def _after_flush(session: Session, flush_context) -> None:
    """Note the scopes of everything this flush wrote (ids are assigned by now)."""
    pending = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        scopes = _scopes_of(obj)
        if scopes is not None:
            pending.update(scopes)
            pending.add(ANY)
            if isinstance(obj, STATS_MODELS):
                pending.add(STATS)


@signals.comment_submitted.connect
def _comment_submitted(comment: Comment, *, session: Session, **_) -> None:
    """A citizen's comment written without a flush (consult/comments/services.py): the pages
    of its consultation, as `_after_flush` would note them."""
    _pending(session).update({consultation_scope(comment.consultation_id), ANY})


def _bulk_statement(state) -> None:
    """An UPDATE/DELETE/INSERT statement through the session: its rows are not known, so it
    touches the whole site (unless no page shows its table)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in UNSEEN_TABLES:
        _pending(state.session).update({SITE, ANY})


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction may still roll back
    scopes = session.info.pop(_PENDING, None)
    if scopes and has_app_context() and _enabled():
        # once the connection is given back (on SQLite, the write turn every writer waits for)
        database.when_released(session, lambda: bump(scopes))


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def _track() -> None:
    """Listen to every session (once per process)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _bulk_statement)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)


# ------------------------------------------------------------------------------ stamps


def _stamp_key(scope: str) -> str:
    return f"stamp:{scope}"


def bump(scopes: Iterable[str]) -> None:
    """New stamps for `scopes` (and `any`): every page depending on them is rendered again.
    Called after the commit; a store that fails is logged (pages then expire by their TTL)."""
    scopes = sorted({*scopes, ANY})
    try:
        stamps = _host_stamps()
        if stamps is not None:
            stamps.renew(scopes)
        else:
            cache.set_many({_stamp_key(s): secrets.token_hex(8) for s in scopes}, timeout=0)
    except Exception:  # noqa: BLE001 - the write is committed; the page cache must not undo it
        # The store is down: this process renews every page as soon as it answers again.
        _missed.set()
        log.exception("page cache: stamps not renewed for %s", scopes)


# Set when a write's stamps could not be renewed (the store was down).
_missed = threading.Event()


def _renew_missed() -> None:
    """Before reading the store again, renew every page if a write here could not: pages
    stored before the outage must not come back after it (another process's missed writes
    are bounded by PAGE_CACHE_TTL)."""
    if _missed.is_set():
        _missed.clear()
        try:
            bump([SITE])
        except Exception:
            _missed.set()
            raise


def _stamps(scopes: list[str]) -> list[str]:
    stamps = _host_stamps()
    if stamps is not None:
        return stamps.read(scopes)
    keys = [_stamp_key(scope) for scope in scopes]
    values = list(cache.get_many(*keys))
    for i, value in enumerate(values):
        if value is None:  # never written, or lost by the store: a new one, never an old one
            fresh = secrets.token_hex(8)
            if not cache.add(keys[i], fresh, timeout=0):
                fresh = cache.get(keys[i]) or fresh
            values[i] = fresh
    return values


class HostStamps:
    """The stamps of one host's workers, beside its folder store, in a memory-mapped file of
    `SLOTS` random 8-byte values (a scope's slot is picked by its CRC-32): reading one is a
    memory read, renewing one writes 8 random bytes — instead of a file opened, read and
    unpickled per stamp and request. Two scopes that share a slot renew each other: a page
    rendered again for nothing, never a stale one. The file is made full of random values and
    put in place in one step, so a new file (the folder was emptied) never repeats old stamps;
    each read checks that the file mapped is still the one in the folder."""

    SLOTS = 1 << 16
    SIZE = SLOTS * 8

    def __init__(self, directory: str):
        self.path = os.path.join(directory, "stamps.bin")
        self._map: mmap.mmap | None = None
        self._inode: int | None = None
        self._lock = threading.Lock()

    def _mapped(self) -> mmap.mmap:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if self._map is None or inode != self._inode:
            with self._lock:
                if inode is None:
                    self._create()
                fd = os.open(self.path, os.O_RDWR)
                try:
                    self._map = mmap.mmap(fd, self.SIZE)
                    self._inode = os.fstat(fd).st_ino
                finally:
                    os.close(fd)
        return self._map

    def _create(self) -> None:
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(self.path), suffix=".stamps")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(self.SIZE))
            with contextlib.suppress(FileExistsError):  # another worker was first
                os.link(temporary, self.path)
        finally:
            os.unlink(temporary)

    def _offset(self, scope: str) -> int:
        return (zlib.crc32(scope.encode()) % self.SLOTS) * 8

    def read(self, scopes: list[str]) -> list[str]:
        mapped = self._mapped()
        return [mapped[o:o + 8].hex() for o in map(self._offset, scopes)]

    def renew(self, scopes: Iterable[str]) -> None:
        mapped = self._mapped()
        for scope in scopes:
            offset = self._offset(scope)
            mapped[offset:offset + 8] = secrets.token_bytes(8)


def _host_stamps() -> HostStamps | None:
    """The host's stamp file when the pages are in a folder store; else None (the stamps are
    in the store itself: Redis, shared by every host, or one process's memory)."""
    return current_app.extensions.get("pagecache_stamps")


# ------------------------------------------------------------------------------ serving pages


def _enabled() -> bool:
    return current_app.config.get("PAGE_CACHE", True) and \
        current_app.config.get("CACHE_TYPE") not in (None, "NullCache", "null")


def anonymous_read() -> bool:
    """Whether this request may be answered with (and may create) a shared page: a GET by a
    visitor who is nobody in particular — not signed in as staff or citizen, nothing flashed."""
    if request.method not in ("GET", "HEAD"):
        return False
    if any(key in session for key in _IDENTITY_KEYS):
        return False
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies


def expires_by(moment: datetime | None) -> None:
    """The page being rendered changes by the clock at `moment`: keep it no longer."""
    if moment is not None:
        g.setdefault("page_expires", []).append(moment)


def keep_not() -> None:
    """The page being rendered must not be kept (it shows figures being counted again): this
    reader gets it, the next one asks the view again."""
    g.page_keep_not = True


def follows(consultation: Consultation) -> None:
    """The page being rendered shows `consultation`'s status: keep it until that changes."""
    expires_by(next_change(consultation.state, consultation.opens_at, consultation.closes_at,
                           clock.now()))


def follows_every_consultation() -> None:
    """The page being rendered lists consultations by status: keep it until any changes."""
    expires_by(queries.next_change(clock.now()))


def _placeholder() -> str:
    """What stands for the visitor's CSRF token in a stored page: the same in every worker,
    not guessable by a commenter who would write it into a comment."""
    secret = current_app.config["SECRET_KEY"].encode()
    return "csrf-" + hmac.new(secret, b"pagecache-csrf", hashlib.sha256).hexdigest()[:24]


def _template_version(app: Flask) -> str:
    """A digest of the templates, translations and the configured site identity: a new release
    (or a restart with another SITE_* setting) renders its pages anew."""
    digest = hashlib.sha256(repr(sorted(site_identity(app.config).items())).encode())
    roots = [Path(app.root_path, app.template_folder or "templates"),
             Path(app.root_path).parent / "translations"]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".html", ".mo"):
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page(*, params: tuple[str, ...] = (), consultation: str | None = None,
         scopes: tuple[str, ...] | None = None,
         clock_bound: Callable[..., None] | None = None):
    """Serve the decorated view's page from the cache to anonymous readers.

    `params`: the query parameters the page reads (others do not change it, so they are not in
    its key); `consultation`: the view argument naming the consultation the page shows (its
    page depends on that consultation's stamp); `scopes`: the stamps the page depends on
    otherwise (default: every write's, `any`).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(**kwargs):
            # the links of the page (language, 长者模式) keep only the parameters in its key
            g.page_params = (*params, *EVERY_PAGE_PARAMS)
            if not _enabled():
                return view(**kwargs)
            if not anonymous_read():  # someone's own page: for their browser only
                response = make_response(view(**kwargs))
                response.headers.pop("Cache-Control", None)
                response.cache_control.private = True
                response.cache_control.no_cache = True
                response.vary.add("Cookie")
                return response
            if consultation:
                stamped = [SITE, consultation_scope(kwargs[consultation])]
            else:
                stamped = list(scopes or (ANY,))
            try:
                _renew_missed()
                stamps = _stamps(stamped)
                key = _key(params, stamps)
                entry = _recent.get(key) or cache.get(key)
            except Exception as error:  # noqa: BLE001 - the store is down: render the page
                log.warning("page cache unavailable, page rendered: %s", error)
                key = entry = None
            if entry is not None and entry["expires"] > clock.now().timestamp():
                _remember(key, entry)
                return _serve(entry, "hit")
            entry = _render(view, kwargs)
            if entry is None:
                return g.pop("page_uncached")
            remaining = entry["expires"] - clock.now().timestamp()
            if key is None:
                return _serve(entry, "unavailable")
            if remaining >= 1:
                _remember(key, entry)
                try:
                    cache.set(key, entry, timeout=math.ceil(remaining))
                except Exception:  # noqa: BLE001 - served uncached
                    log.exception("page cache: %s not stored", request.path)
            return _serve(entry, "miss")

        wrapped.page_cached = True
        return wrapped

    return decorator


# The pages this process served last, by key. A key holds the stamps, so an entry found under
# it is as fresh as one read from the shared store (which is still asked for the stamps on every
# request): this only saves reading and unpickling the page itself.
_recent: OrderedDict[str, dict] = OrderedDict()
RECENT_PAGES = 64
_recent_lock = threading.Lock()


def _remember(key: str, entry: dict) -> None:
    with _recent_lock:
        _recent[key] = entry
        _recent.move_to_end(key)
        while len(_recent) > RECENT_PAGES:
            _recent.popitem(last=False)


# Query parameters every page reads (templates/base.html): ?large= switches 长者模式 without
# JavaScript, so each value is a page of its own. The browser's remembered choice (the `large`
# cookie, "1" or not) is in the key as well: two variants of every page, nothing else of the
# visitor's.
EVERY_PAGE_PARAMS = ("large",)


def _key(params: tuple[str, ...], stamps: list[str]) -> str:
    args = request.args
    query = "&".join(f"{name}={value}" for name in sorted({*params, *EVERY_PAGE_PARAMS})
                     for value in args.getlist(name))
    raw = "\x1f".join([current_app.config["PAGE_CACHE_VERSION"], request.path, query,
                       select_locale(), "large" if large_remembered() else "", *stamps])
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def _render(view, kwargs) -> dict | None:
    """Render the page with a placeholder for the CSRF token; the entry to store, or None when
    this response must not be shared (then it is in `g.page_uncached`)."""
    placeholder = _placeholder()
    g.csrf_token = placeholder  # what Flask-WTF's generate_csrf() answers in this request
    g.pop("page_expires", None)
    g.pop("page_keep_not", None)
    try:
        response = make_response(view(**kwargs))
    finally:
        g.pop("csrf_token", None)
    if response.status_code != 200 or response.direct_passthrough or \
            response.headers.getlist("Set-Cookie") or "_flashes" in session:
        _fill(response, placeholder)
        g.page_uncached = response
        return None
    body = response.get_data()
    now = clock.now()
    moments = [now + timedelta(seconds=current_app.config["PAGE_CACHE_TTL"]),
               clock.start_of_day(clock.today() + timedelta(days=1)),
               *[m for m in g.pop("page_expires", []) if m > now]]
    expires = now if g.pop("page_keep_not", False) else min(moments)
    return {
        "body": body,
        "mimetype": response.mimetype,
        "etag": response.get_etag()[0] or hashlib.sha256(body).hexdigest()[:32],
        "expires": expires.timestamp(),
        "csrf": placeholder.encode() in body,
    }


def _fill(response: Response, placeholder: str) -> None:
    body = response.get_data()
    if placeholder.encode() in body:
        response.set_data(body.replace(placeholder.encode(), generate_csrf().encode()))
        response.cache_control.private = True
        response.cache_control.no_cache = True


def _serve(entry: dict, how: str) -> Response:
    response = Response(entry["body"], mimetype=entry["mimetype"])
    response.headers["X-Page-Cache"] = how
    response.vary.add("Cookie")
    if entry["csrf"]:  # the visitor's own token: for their browser only, always fetched anew
        _fill(response, _placeholder())
        return response
    response.set_etag(entry["etag"])
    response.cache_control.public = True
    response.cache_control.max_age = 0
    seconds = min(current_app.config["PAGE_CACHE_PROXY_SECONDS"],
                  int(entry["expires"] - clock.now().timestamp()))
    if seconds > 0:
        response.cache_control.s_maxage = seconds
    if entry["etag"] in request.if_none_match:  # the reader has it: 304, no body
        response.status_code = 304
        response.set_data(b"")
    return response


def init_app(app: Flask) -> None:
    """Bind the store and listen to the sessions."""
    config = app.config
    config.setdefault("PAGE_CACHE", True)
    if config.get("CACHE_TYPE") in ("FileSystemCache", "filesystem"):
        Path(config["CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        app.extensions["pagecache_stamps"] = HostStamps(config["CACHE_DIR"])
    config["PAGE_CACHE_VERSION"] = _template_version(app)
    cache.init_app(app)
    _track()

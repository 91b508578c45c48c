"""The web layer every blueprint shares: guards, loaders, forms, pagination and the commit point.
(Query-string numbers are read, bounded, by `consult.paging`.)

Core (imports no domain). Views stay thin with it:

    @bp.post("/staff/things/<int:thing_id>/do")
    @staff_required
    @commits
    def manage_do(thing_id):
        thing = load_or_403(Thing, thing_id, policy.can_see)
        policy.require(current_user, thing, "do")      # 403 (role) or 409 (state)
        form = DoForm()
        if not form.validate():
            return render(thing, form), 422
        with form_errors(form) as failed:              # the service's ValidationFailed → form
            services.do(thing, form.data, actor=current_user)
        if failed:
            return render(thing, form, message=failed.message), failed.status
        flash(...)
        return redirect(...)                           # @commits commits before it is sent

`commits` is the one commit point of a request: the view's response is built, then the
transaction is committed, and only then does the response go out, so a 2xx/3xx always means
"saved" (a failed commit becomes the busy-database 503 of `consult.http`, never a success).
Error responses and exceptions roll back. The SQLite write lock is unaffected: a write request
still takes it at its first statement (`consult.database.writes_expected`), and holds it until
the commit. A view whose answer is decided — its service has written, nothing can refuse any
more, only the answer is left to build — may commit before building it (`commit_now`): on
SQLite every other writer of the host waits while the lock is held, so the busiest writes (a
citizen's comment) keep the making of their answer out of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import wraps
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, session
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from flask_wtf import FlaskForm

from consult.errors import ConsultError, ValidationFailed
from consult.extensions import db
from consult.i18n import select_locale
from consult.paging import page_number
from consult.permissions import is_staff

M = TypeVar("M")

# ------------------------------------------------------------------------------ guards


def staff_required(view):
    """Anonymous users go to the login page; signed-in users without a staff role get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_staff(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def load_or_403(model: type[M], object_id: int, check: Callable[..., bool], *,
                options=()) -> M:
    """The object (404 when there is none) if `check(current_user, obj)` allows it, else 403.
    `options`: loader options (what the view will read, in the same query)."""
    obj = db.get_or_404(model, object_id, options=options)
    if not check(current_user, obj):
        abort(403)
    return obj


def public_or_404(model: type[M], object_id: int, is_public: Callable[[M], bool], *,
                  options=()) -> M:
    """The object if the public may see it; 404 for one that does not exist or is not public.
    `options`: loader options (what the view will read, in the same query)."""
    obj = db.get_or_404(model, object_id, options=options)
    if not is_public(obj):
        abort(404)
    return obj


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (no scheme, no host, no `//` or `\\` tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# ------------------------------------------------------------------------------ arguments


def language() -> str:
    """The language of this request's page (zh_Hans, zh_Hant, en): services store it where mail
    will later be written to whoever made the request. The locale selector's answer, as Babel's
    locale would say it, without building that (an API POST renders nothing else)."""
    return select_locale()



def paginate(query, *, per_page: int | None = None, count: bool = True):
    """One page of `query` for `?page=` (bounded by `consult.paging`: 400 when it is not a page
    number; past the end, an empty page)."""
    return db.paginate(query, page=page_number(),
                       per_page=per_page or current_app.config["PER_PAGE"], error_out=False,
                       count=count)


class ListPagination(Pagination):
    """Flask-SQLAlchemy's pagination (for the shared macro) over a list in memory."""

    def __init__(self, items: list, page: int, per_page: int):
        self._all = items
        super().__init__(page=page, per_page=per_page, max_per_page=per_page, error_out=False)

    def _query_items(self) -> list:
        return self._all[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)


# ------------------------------------------------------------------------------ forms


def strip(value):
    """A WTForms filter: surrounding white space off."""
    return value.strip() if isinstance(value, str) else value


def one_newline(value):
    """A WTForms filter: one character per line break, as browsers count them for maxlength."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class ConfirmForm(FlaskForm):
    """A button behind a mailed link, so that a mail scanner's GET changes nothing."""


def attach_errors(form: FlaskForm, error: ValidationFailed, *,
                  fields: dict[str, str] | None = None) -> None:
    """Show a service's ValidationFailed beside the fields it names (`fields` renames a service's
    field to the form's: {"file": "scan"})."""
    for name, message in (error.fields or {}).items():
        name = (fields or {}).get(name, name)
        if name in form:
            form[name].errors = [*form[name].errors, str(message)]


class Failure:
    """What `form_errors` caught: false until an error was; then its message and status."""

    error: ConsultError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str | None:
        return self.error.message if self.error is not None else None

    @property
    def status(self) -> int:
        return self.error.status if self.error is not None else 200


@contextmanager
def form_errors(form: FlaskForm | None, *, catch: tuple[type[ConsultError], ...] = (
        ValidationFailed,), fields: dict[str, str] | None = None,
        field: str | None = None, savepoint: bool = True) -> Iterator[Failure]:
    """Try a service call for a form: in a savepoint, so a refusal leaves nothing behind; its
    ValidationFailed (or another error in `catch`) is put on the form's fields and the block is
    left with the returned `Failure` set, for the view to re-render the form with its status.

    `field` names the form field that shows an error whatever fields it names (a file upload).
    `savepoint=False` when every refusal is answered with a 4xx/5xx, whose request `commits`
    rolls back whole: the block then begins no transaction of its own (on SQLite the write lock
    is taken by the service's first write, not before its rules run).
    """
    failure = Failure()
    try:
        with db.session.begin_nested() if savepoint else nullcontext():
            yield failure
    except catch as error:
        failure.error = error
        if form is not None:
            if isinstance(error, ValidationFailed):
                attach_errors(form, error, fields=fields)
            if field is not None and field in form:
                message = (error.fields or {}).get(field, error.message)
                if message and str(message) not in form[field].errors:
                    form[field].errors = [*form[field].errors, str(message)]


# ------------------------------------------------------------------------------ the commit point

_FLASHES = "_flashes"
_KEEP_REFUSAL = "commit_refusal"


def commit_refusal() -> None:
    """Keep what this request did although its answer is a refusal: a failed sign-in counts
    towards throttling (`consult.security.throttle`) even as the form is answered with 422."""
    g.setdefault(_KEEP_REFUSAL, True)


def commits(view):
    """The one commit point of a state-changing view (see the module's docstring).

    2xx and 3xx: commit, then the response is sent; a commit that fails raises (the 503 of a
    busy database), so nothing is ever answered as saved that was not. Anything else (an error
    status, an exception such as `abort(403)`) rolls back, and messages flashed on the way are
    taken back with it — unless the view said the refusal itself is kept (`commit_refusal`).
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        flashed = list(session.get(_FLASHES, ()))
        try:
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code < 400 or g.pop(_KEEP_REFUSAL, False):
                if db.session().in_transaction():  # else nothing to commit (`commit_now`)
                    db.session.commit()
                return response
        except BaseException:
            _roll_back(flashed)
            raise
        _roll_back(flashed)
        return response

    wrapped.commits = True
    return wrapped


def commit_now() -> None:
    """Commit what the request wrote, before its success answer is built (see the module's
    docstring); `commits` then finds nothing left to commit. Read what the answer needs of the
    objects written first: a committed object is expired, and reading it again would begin a
    new transaction (on SQLite, in a write request, with the write lock)."""
    db.session.commit()


def _roll_back(flashed: list) -> None:
    """Undo the request's changes (and what it flashed); a dead connection is the pool's to
    replace, and the error being answered stands."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - logged; `consult.http` answers the original error
        current_app.logger.warning("rollback failed", exc_info=True)
    if list(session.get(_FLASHES, ())) != flashed:
        if flashed:
            session[_FLASHES] = flashed
        else:
            session.pop(_FLASHES, None)

"""The console's login, once access keys exist (``docs/security.md``, "The web console").

The API checks a SigV4 signature on every request, which a browser cannot make. The console
instead asks for an access key id and its secret once (``/console/login``), checks the secret
against the stored one in constant time, and sets a session cookie:

- the session names the key, when it was issued and a random id, and ends in an HMAC-SHA256
  tag keyed by a random secret every process of the database shares (``Engine.session_key``,
  kept in the store like the task-token key): it cannot be forged or altered;
- only an administrator's key signs in (a key bound to a role, or a function's, is refused:
  the console's own API is not authorised per operation);
- it lasts ``SESSION_SECONDS``; deleting the key ends its sessions at the next request;
- it is recorded in the database (``console_sessions``) when it starts, and a request's session
  must still be recorded: signing out deletes the row, which ends the session on every server
  of the database at once, and clears the cookie;
- the cookie is ``HttpOnly``, ``SameSite=Strict``, ``Path=/``, and ``Secure`` when the page was
  served over https (the request's scheme, or ``X-Forwarded-Proto`` from a proxy).

Every state-changing console request (any method but GET/HEAD) must carry the session's CSRF
token in ``X-CSRF-Token`` (an HMAC of the session id: bound to the session, read by the page
from the ``statewright_csrf`` cookie, which is not HttpOnly) and, whatever the auth setting,
come from the console's own origin when the browser says where it comes from (``Origin``, else
``Referer``). Refusals are 403 and nothing changes.

``guard`` is what ``api/auth.py`` runs for every request under ``/console``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from statewright import errors
from statewright.console.routes import PREFIX, SECURITY_HEADERS, STATIC
from statewright.runtime.engine import Engine

LOGIN_PATH = PREFIX + "/login"
LOGOUT_PATH = PREFIX + "/api/logout"
SESSION_COOKIE = "statewright_session"
CSRF_COOKIE = "statewright_csrf"
CSRF_HEADER = "x-csrf-token"
#: How long a login lasts.
SESSION_SECONDS = 12 * 3600
#: Methods that only read: no CSRF token needed.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The largest login form read.
MAX_LOGIN_BYTES = 4096
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser."""

    access_key_id: str
    issued_at: int
    session_id: str

    def encode(self, key: bytes) -> str:
        body = f"{_VERSION}.{self.access_key_id}.{self.issued_at}.{self.session_id}"
        return f"{body}.{_tag(key, 'session', body)}"

    def csrf_token(self, key: bytes) -> str:
        return _tag(key, "csrf", self.session_id)


def decode_session(text: str, key: bytes, now: float) -> Session | None:
    """The session a cookie holds, None when it is malformed, forged or expired."""
    body, dot, tag = text.rpartition(".")
    if not dot or not hmac.compare_digest(tag.encode(), _tag(key, "session", body).encode()):
        return None
    parts = body.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[2].isdigit():
        return None
    issued = int(parts[2])
    if not issued <= now < issued + SESSION_SECONDS:
        return None
    return Session(parts[1], issued, parts[3])


def _tag(key: bytes, purpose: str, text: str) -> str:
    digest = hmac.new(key, f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def same_origin(scope: Scope) -> bool:
    """Whether the browser says the request comes from the console's own origin. A request
    without ``Origin`` or ``Referer`` (curl, a script) passes: browsers send ``Origin`` with
    every cross-origin request that could change something."""
    request = Request(scope)
    claimed = request.headers.get("origin")
    if claimed is None:
        referer = request.headers.get("referer")
        if not referer:
            return True
        parts = urllib.parse.urlsplit(referer)
        claimed = f"{parts.scheme}://{parts.netloc}"
    host = request.headers.get("host", "")
    return claimed.lower() in {f"http://{host}".lower(), f"https://{host}".lower()}


def _https(scope: Scope) -> bool:
    forwarded = Request(scope).headers.get("x-forwarded-proto", "")
    return scope.get("scheme") == "https" or forwarded.split(",")[0].strip() == "https"


class Guard:
    """Checks every request under ``/console``: CSRF (origin) always; a session and the
    session's CSRF token once access keys exist."""

    def __init__(self, app: ASGIApp, engine: Engine,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.engine = engine
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self._answer(scope, receive)
        except errors.AwsError as exc:  # the database is unavailable: say so, don't crash
            answer = JSONResponse({"error": {"code": exc.code, "message": exc.message}},
                                  status_code=exc.status, headers={"Cache-Control": "no-store"})
        await (self.app if answer is None else answer)(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response | None:
        """The guard's own answer, or None to let the request through to the console."""
        path: str = scope["path"]
        method: str = scope["method"]
        changes = method not in SAFE_METHODS
        if changes and not same_origin(scope):
            return _forbidden("The request does not come from the console's origin")
        required = await run_in_threadpool(self.engine.access_keys_required)
        if path == LOGIN_PATH:
            return await self._login(Request(scope, receive), required)
        if not required or path.startswith(PREFIX + "/static/"):
            return None
        request = Request(scope)
        session = await run_in_threadpool(self._session, request)
        if session is None:
            if path.startswith(PREFIX + "/api/"):
                answer: Response = JSONResponse(
                    {"error": {"code": "NotSignedIn",
                               "message": "Sign in to the console first"}},
                    status_code=401, headers={"Cache-Control": "no-store"})
            else:
                answer = RedirectResponse(LOGIN_PATH, status_code=303)
            _clear_cookies(answer, scope)
            return answer
        if changes:
            given = request.headers.get(CSRF_HEADER, "")
            expected = session.csrf_token(self.engine.session_key)
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return _forbidden("The request lacks the session's CSRF token")
        if path == LOGOUT_PATH and method == "POST":
            await run_in_threadpool(self.engine.end_console_session, session.session_id)
            answer = JSONResponse({"signedOut": True}, headers={"Cache-Control": "no-store"})
            _clear_cookies(answer, scope)
            return answer
        return None

    def _session(self, request: Request) -> Session | None:
        text = request.cookies.get(SESSION_COOKIE)
        if not text:
            return None
        session = decode_session(text, self.engine.session_key, self.clock())
        if session is None or not self.engine.console_session_live(session.session_id):
            return None  # forged, expired, or signed out (on any server of the database)
        if self.engine.access_key_secret(session.access_key_id) is None:  # key deleted
            return None
        return session

    async def _login(self, request: Request, required: bool) -> Response:
        if not required:  # nothing to sign in to
            return RedirectResponse(PREFIX + "/", status_code=303)
        if request.method in ("GET", "HEAD"):
            return _login_page("", 200)
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "GET, HEAD, POST"})
        return await self._sign_in(request, request.scope)

    async def _sign_in(self, request: Request, scope: Scope) -> Response:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_LOGIN_BYTES:
                return _login_page("The form is too large.", 400)
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
        key_id = (form.get("accessKeyId") or [""])[0].strip()
        secret = (form.get("secretAccessKey") or [""])[0].strip()
        if not key_id or not secret:
            return _login_page("Enter an access key id and its secret.", 400)
        grant = await run_in_threadpool(self.engine.access_key, key_id)
        # Compare even for an unknown key, so the answer takes as long either way.
        expected = grant.secret if grant is not None else secrets.token_urlsafe(30)
        matches = hmac.compare_digest(secret.encode(), expected.encode())
        if grant is None or not matches:
            return _login_page("The access key id or the secret is wrong.", 401)
        if grant.role_arn is not None:
            # The console's own API is an operator's: it is not authorised per operation.
            return _login_page("This key is bound to an IAM role; the console needs an "
                               "administrator's key (statewright keys create without --role).",
                               403)
        key = await run_in_threadpool(lambda: self.engine.session_key)
        session = Session(key_id, int(self.clock()), secrets.token_urlsafe(18))
        await run_in_threadpool(self.engine.start_console_session, session.session_id,
                                key_id, float(session.issued_at),
                                float(session.issued_at + SESSION_SECONDS))
        answer = RedirectResponse(PREFIX + "/", status_code=303)
        secure = _https(scope)
        answer.set_cookie(SESSION_COOKIE, session.encode(key), max_age=SESSION_SECONDS,
                          path="/", secure=secure, httponly=True, samesite="strict")
        # Read by the page's JavaScript and sent back as X-CSRF-Token: not HttpOnly.
        answer.set_cookie(CSRF_COOKIE, session.csrf_token(key), max_age=SESSION_SECONDS,
                          path="/", secure=secure, httponly=False, samesite="strict")
        return answer


def _forbidden(message: str) -> Response:
    return JSONResponse({"error": {"code": "Forbidden", "message": message}}, status_code=403,
                        headers={"Cache-Control": "no-store"})


def _clear_cookies(answer: Response, scope: Scope) -> None:
    secure = _https(scope)
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        answer.delete_cookie(name, path="/", secure=secure, httponly=httponly,
                             samesite="strict")


def _login_page(message: str, status: int) -> Response:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    shown = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return Response(page.replace("<!--message-->", shown), status_code=status,
                    media_type="text/html",
                    headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})

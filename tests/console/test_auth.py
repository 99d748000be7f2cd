"""The console's login once access keys exist (issue 12 on issue 7's console), against a real
``statewright serve`` whose database holds a key, in real Chromium.

What is checked: without a session every console page goes to the sign-in page and the
console's API answers 401; a wrong secret or an unknown key is refused; signing in sets an
HttpOnly, SameSite=Strict session cookie (Secure over https) and the pages load; a
state-changing request without the session's CSRF token, or from another origin, is 403 and
changes nothing; signing out and deleting the key both end the session; the AWS API beside the
console still wants SigV4 (a session cookie is no signature); the state machine page shows the
role and what it may invoke.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import (
    ACCOUNT,
    EXAMPLE,
    REGION,
    REPO,
    Server,
    start_server,
    stop_and_check,
)
from tests.console.conftest import ORDER_DEFINITION, Requests

#: The sign-in page's URL (a redirect keeps the fragment: /console/login#/functions).
AT_LOGIN = re.compile(r".*/console/login(#.*)?$")
#: How the order workflow's definition names its functions.
DEFINITION_LAMBDA = "arn:aws:lambda:us-east-1:211125437318:function:"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


@dataclass
class Secured:
    """A console server whose database holds one access key."""

    server: Server
    key_id: str
    secret: str
    env: dict[str, str]
    db: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.server.url, region_name=REGION,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
                            config=NO_RETRIES)

    def keys(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "statewright.cli", "keys", *args,
                               "--db", self.db], capture_output=True, text=True, cwd=REPO,
                              env=self.env, timeout=60)
        assert done.returncode == 0, done.stderr
        return done


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    folder = tmp_path_factory.mktemp("console-auth")
    functions = folder / "functions"
    shutil.copytree(EXAMPLE / "functions", functions)
    db = f"sqlite:///{folder / 'db.sqlite'}"
    env = {**os.environ, "STATEWRIGHT_SERVER_KEY_FILE": str(folder / "keys" / "server.key")}
    created = subprocess.run([sys.executable, "-m", "statewright.cli", "keys", "create",
                              "--name", "console", "--db", db], capture_output=True, text=True,
                             cwd=REPO, env=env, timeout=60)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    process, running = start_server(folder, functions, env=env)
    try:
        yield Secured(running, key["AccessKeyId"], key["SecretAccessKey"], env, db)
    finally:
        stop_and_check(process, running)


@dataclass
class Raw:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        """Set-Cookie lines by cookie name."""
        return {v.split("=", 1)[0]: v for k, v in self.headers if k.lower() == "set-cookie"}


def raw(server: Server, method: str, path: str, body: str | bytes | None = None,
        headers: dict[str, str] | None = None) -> Raw:
    """One HTTP request, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Raw(response.status, response.getheaders(), response.read().decode())
    finally:
        connection.close()


def sign_in(secured: Secured, secret: str | None = None, key_id: str | None = None,
            headers: dict[str, str] | None = None) -> Raw:
    form = urllib.parse.urlencode({"accessKeyId": key_id or secured.key_id,
                                   "secretAccessKey": secret or secured.secret})
    return raw(secured.server, "POST", "/console/login", form,
               {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def session_of(answer: Raw) -> tuple[str, str]:
    """(Cookie header, CSRF token) from a successful sign-in."""
    cookies = answer.cookies()
    session = cookies["statewright_session"].split(";")[0]
    csrf = cookies["statewright_csrf"].split(";")[0]
    return f"{session}; {csrf}", csrf.split("=", 1)[1]


def machine_names(secured: Secured) -> set[str]:
    machines = secured.client("stepfunctions").list_state_machines()["stateMachines"]
    return {m["name"] for m in machines}


@pytest.fixture
def browser_context(browser: Any, secured: Secured) -> Iterator[tuple[Any, Any, Requests]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    requests = Requests()
    errors: list[str] = []
    page.on("request", lambda request: requests.urls.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    try:
        yield context, page, requests
    finally:
        context.close()
    assert requests.outside(secured.server) == [], "the page reached outside the server"
    assert errors == [], errors


def browser_sign_in(page: Any, secured: Secured, secret: str | None = None) -> None:
    page.goto(secured.server.url + "/console/")
    page.wait_for_url(AT_LOGIN)
    page.get_by_label("Access key id").fill(secured.key_id)
    page.get_by_label("Secret access key").fill(secret or secured.secret)
    page.get_by_role("button", name="Sign in").click()


# ---------------------------------------------------------------------- without a session

def test_without_a_session_the_console_goes_to_the_sign_in_page(
        secured: Secured, browser_context: tuple[Any, Any, Requests], screenshots: Path) -> None:
    context, page, _ = browser_context
    for path in ("/", "/console", "/console/", "/console/#/functions"):
        page.goto(secured.server.url + path)
        page.wait_for_url(AT_LOGIN)
        assert page.get_by_role("heading", name="Sign in to the console").is_visible()
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 700})
        page.screenshot(path=str(screenshots / f"sign-in-{width}.png"))
    assert context.cookies() == []
    # The console's API answers 401 (the page then goes to the sign-in page), reads and
    # writes alike; the static files (no data in them) stay readable for the sign-in page.
    for method, path in (("GET", "/console/api/overview"),
                         ("GET", "/console/api/state-machines"),
                         ("POST", "/console/api/state-machine")):
        answer = raw(secured.server, method, path, "{}" if method == "POST" else None,
                     {"Content-Type": "application/json"})
        assert answer.status == 401, (path, answer.body)
        assert json.loads(answer.body)["error"]["code"] == "NotSignedIn"
    assert raw(secured.server, "GET", "/console/static/console.css").status == 200


def test_a_wrong_secret_or_an_unknown_key_is_refused(
        secured: Secured, browser_context: tuple[Any, Any, Requests]) -> None:
    context, page, _ = browser_context
    browser_sign_in(page, secured, secret=secured.secret[:-1] + "x")
    page.get_by_role("alert").wait_for()
    assert "wrong" in page.get_by_role("alert").inner_text()
    assert AT_LOGIN.match(page.url)
    assert context.cookies() == []
    for key_id, secret in ((secured.key_id, "not-the-secret"),
                           ("SWAKNOSUCHKEY0000000", secured.secret),
                           (secured.key_id, secured.secret + "x")):
        answer = sign_in(secured, secret=secret, key_id=key_id)
        assert answer.status == 401, answer.body
        assert answer.header("set-cookie") is None
    # A forged or altered session cookie is no session.
    good, _ = session_of(sign_in(secured))
    altered = good.replace("statewright_session=v1.", "statewright_session=v1.X", 1)
    forged = f"statewright_session=v1.{secured.key_id}.9999999999.abc.def"
    for cookie in (altered, forged):
        assert raw(secured.server, "GET", "/console/api/overview",
                   headers={"Cookie": cookie}).status == 401


# ---------------------------------------------------------------------- signed in

def test_signing_in_sets_a_strict_http_only_cookie_and_the_pages_load(
        secured: Secured, browser_context: tuple[Any, Any, Requests]) -> None:
    sfn = secured.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="signed-in-orders", definition=ORDER_DEFINITION,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/example-role-not-in-iam")["stateMachineArn"]
    context, page, _ = browser_context
    browser_sign_in(page, secured)
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="signed-in-orders").click()
    page.get_by_role("heading", name="signed-in-orders").wait_for()
    page.get_by_role("link", name="Functions").click()
    page.get_by_role("link", name="checkInventory").wait_for()

    cookies = {c["name"]: c for c in context.cookies()}
    session, csrf = cookies["statewright_session"], cookies["statewright_csrf"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert session["path"] == "/" and session["secure"] is False  # served over http
    assert session["expires"] > 0  # a lifetime, not a browser-session cookie
    assert csrf["httpOnly"] is False and csrf["sameSite"] == "Strict"

    # The console's writes go through its one request function, which adds the CSRF token:
    # start an execution from the page.
    started = page.evaluate(
        """async (arn) => {
             const api = await import('/console/static/js/api.js');
             return api.call('/executions', {method: 'POST',
                                             body: {stateMachineArn: arn, input: '{}'}});
           }""", arn)
    assert started["executionArn"].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:")
    assert sfn.describe_execution(executionArn=started["executionArn"])["stateMachineArn"] == arn


def test_over_https_the_cookies_are_secure(secured: Secured) -> None:
    # Behind a proxy that terminates TLS: X-Forwarded-Proto says the page was https.
    answer = sign_in(secured, headers={"X-Forwarded-Proto": "https"})
    assert answer.status == 303 and answer.header("location") == "/console/"
    for name, line in answer.cookies().items():
        flags = [part.strip().lower() for part in line.split(";")]
        assert "secure" in flags, line
        assert "samesite=strict" in flags and "path=/" in flags, line
        assert ("httponly" in flags) == (name == "statewright_session"), line
    plain = sign_in(secured)
    assert all("secure" not in [p.strip().lower() for p in line.split(";")]
               for line in plain.cookies().values())


def test_a_write_without_the_csrf_token_or_from_another_origin_is_refused(
        secured: Secured, browser_context: tuple[Any, Any, Requests]) -> None:
    context, page, _ = browser_context
    browser_sign_in(page, secured)
    page.wait_for_url("**/console/")
    before = machine_names(secured)
    body = {"name": "csrf-victim", "definition": ORDER_DEFINITION}

    # From the console's own page, signed in, but without the header: 403.
    status = page.evaluate(
        """async (body) => (await fetch('/console/api/state-machine', {
             method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).status""",
        body)
    assert status == 403
    # A wrong token: 403.
    status = page.evaluate(
        """async (body) => (await fetch('/console/api/state-machine', {
             method: 'POST', headers: {'Content-Type': 'application/json',
                                       'X-CSRF-Token': 'guessed'},
             body: JSON.stringify(body)})).status""", body)
    assert status == 403
    # The right token (and the session cookie) but sent from another origin: 403.
    csrf = {c["name"]: c["value"] for c in context.cookies()}["statewright_csrf"]
    for origin in ({"Origin": "http://evil.example"},
                   {"Referer": "http://evil.example/attack.html"},
                   {"Origin": "null"}):
        answer = context.request.post(
            secured.server.url + "/console/api/state-machine",
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf, **origin},
            data=json.dumps(body))
        assert answer.status == 403, (origin, answer.text())
    # Nothing changed; the same request with the token from the page's origin works.
    assert machine_names(secured) == before
    answer = context.request.post(
        secured.server.url + "/console/api/state-machine",
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf,
                 "Origin": secured.server.url},
        data=json.dumps({**body, "name": "csrf-allowed"}))
    assert answer.status == 200, answer.text()
    assert machine_names(secured) == before | {"csrf-allowed"}
    # Another session's token does not fit this session.
    _, other_csrf = session_of(sign_in(secured))
    answer = context.request.post(
        secured.server.url + "/console/api/state-machine",
        headers={"Content-Type": "application/json", "X-CSRF-Token": other_csrf},
        data=json.dumps(body))
    assert answer.status == 403
    assert "csrf-victim" not in machine_names(secured)


def test_signing_out_ends_the_session(
        secured: Secured, browser_context: tuple[Any, Any, Requests]) -> None:
    context, page, _ = browser_context
    browser_sign_in(page, secured)
    page.wait_for_url("**/console/")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    copied = f"statewright_session={cookies['statewright_session']}"
    assert raw(secured.server, "GET", "/console/api/overview",
               headers={"Cookie": copied}).status == 200
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(AT_LOGIN)
    assert context.cookies() == []
    page.goto(secured.server.url + "/console/")
    page.wait_for_url(AT_LOGIN)
    # A copy of the cookie taken before signing out no longer works either.
    assert raw(secured.server, "GET", "/console/api/overview",
               headers={"Cookie": copied}).status == 401


def test_signing_out_on_one_server_ends_the_session_on_every_server(
        secured: Secured, tmp_path: Path) -> None:
    """Sessions live in the database: a second server of the same database knows a session
    signed in on the first, and signing out on either ends it on both."""
    process, other = start_server(tmp_path, None, env=secured.env, args=["--db", secured.db])
    try:
        cookie, csrf = session_of(sign_in(secured))
        for server in (secured.server, other):
            assert raw(server, "GET", "/console/api/overview",
                       headers={"Cookie": cookie}).status == 200
        out = raw(other, "POST", "/console/api/logout", "",
                  {"Cookie": cookie, "X-CSRF-Token": csrf})
        assert out.status == 200, out.body
        for server in (secured.server, other):
            assert raw(server, "GET", "/console/api/overview",
                       headers={"Cookie": cookie}).status == 401
    finally:
        stop_and_check(process, other)


def test_a_role_bound_key_cannot_sign_in(secured: Secured) -> None:
    """The console's API is an operator's (not authorised per operation): only keys made
    without --role sign in."""
    iam = secured.client("iam")
    iam.create_role(RoleName="console-reader", AssumeRolePolicyDocument=TRUST)
    key = json.loads(secured.keys("create", "--role", "console-reader").stdout)
    answer = sign_in(secured, key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert answer.status == 403
    assert "bound to an IAM role" in answer.body
    assert answer.header("set-cookie") is None


def test_deleting_the_key_ends_its_sessions(secured: Secured) -> None:
    key = json.loads(secured.keys("create", "--name", "short-lived").stdout)
    cookie, csrf = session_of(sign_in(secured, key_id=key["AccessKeyId"],
                                      secret=key["SecretAccessKey"]))
    assert raw(secured.server, "GET", "/console/api/overview",
               headers={"Cookie": cookie}).status == 200
    secured.keys("delete", key["AccessKeyId"])
    assert raw(secured.server, "GET", "/console/api/overview",
               headers={"Cookie": cookie}).status == 401
    answer = raw(secured.server, "POST", "/console/api/state-machine",
                 json.dumps({"name": "after-delete", "definition": ORDER_DEFINITION}),
                 {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert answer.status == 401
    assert "after-delete" not in machine_names(secured)


# ---------------------------------------------------------------------- beside the AWS API

def test_the_aws_api_still_wants_sigv4_beside_the_console(secured: Secured) -> None:
    sfn = secured.client("stepfunctions")
    assert isinstance(sfn.list_state_machines()["stateMachines"], list)
    unsigned = boto3.client("stepfunctions", endpoint_url=secured.server.url,
                            region_name=REGION, config=NO_RETRIES.merge(
                                Config(signature_version=UNSIGNED)))
    with pytest.raises(ClientError) as refused:
        unsigned.list_state_machines()
    assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    # A console session is not a signature: the AWS API refuses it.
    cookie, csrf = session_of(sign_in(secured))
    answer = raw(secured.server, "POST", "/", "{}",
                 {"Cookie": cookie, "X-CSRF-Token": csrf,
                  "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                  "Content-Type": "application/x-amz-json-1.0"})
    assert answer.status == 400
    assert json.loads(answer.body)["__type"].endswith("MissingAuthenticationTokenException")
    answer = raw(secured.server, "GET", "/2015-03-31/functions/", headers={"Cookie": cookie})
    assert answer.status == 403
    # IAM's GET / with an Action is the API, not the console's redirect.
    answer = raw(secured.server, "GET", "/?Action=ListRoles&Version=2010-05-08")
    assert answer.status == 403 and "MissingAuthenticationToken" in answer.body


# ---------------------------------------------------------------------- the role

def test_the_state_machine_page_shows_its_role_and_what_it_may_invoke(
        secured: Secured, browser_context: tuple[Any, Any, Requests], screenshots: Path) -> None:
    iam = secured.client("iam")
    role = iam.create_role(RoleName="console-orders-role",
                           AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="console-orders-role", PolicyName="invoke", PolicyDocument=(
        json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "lambda:InvokeFunction",
            # The ARNs the tutorial's definition writes (its account, not the server's): what
            # the Tasks are checked on, so what the page must show.
            "Resource": [DEFINITION_LAMBDA + "checkInventory",
                         DEFINITION_LAMBDA + "processPayment"]}]})))
    sfn = secured.client("stepfunctions")
    enforced = sfn.create_state_machine(name="role-enforced", definition=ORDER_DEFINITION,
                                        roleArn=role)["stateMachineArn"]
    free = sfn.create_state_machine(
        name="role-free", definition=ORDER_DEFINITION,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/not-in-statewright")["stateMachineArn"]
    _, page, _ = browser_context
    browser_sign_in(page, secured)
    page.wait_for_url("**/console/")

    page.goto(secured.server.url + "/console/#/state-machine?arn=" + urllib.parse.quote(enforced))
    page.get_by_role("heading", name="role-enforced").wait_for()
    assert page.get_by_text(role, exact=True).is_visible()
    allowed = page.get_by_role("list", name="Functions the role may invoke")
    text = allowed.inner_text()
    assert "checkInventory (allowed)" in text and "processPayment (allowed)" in text
    assert "updateOrderStatus (denied)" in text

    page.screenshot(path=str(screenshots / "role-1400.png"), full_page=True)

    page.goto(secured.server.url + "/console/#/state-machine?arn=" + urllib.parse.quote(free))
    page.get_by_role("heading", name="role-free").wait_for()
    assert page.get_by_text("Not enforced", exact=False).is_visible()


# ---------------------------------------------------------------------- without keys

def test_without_keys_there_is_no_sign_in_but_other_origins_still_cannot_write(
        console_server: Server) -> None:
    answer = raw(console_server, "GET", "/console/login")
    assert answer.status == 303 and answer.header("location") == "/console/"
    assert answer.header("set-cookie") is None
    assert raw(console_server, "GET", "/console/api/overview").status == 200
    body = json.dumps({"name": "open-cross-origin", "definition": ORDER_DEFINITION})
    json_type = {"Content-Type": "application/json"}
    for origin in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"}):
        answer = raw(console_server, "POST", "/console/api/state-machine", body,
                     {**json_type, **origin})
        assert answer.status == 403, answer.body
    names = [m["name"] for m in json.loads(
        raw(console_server, "GET", "/console/api/state-machines").body)["stateMachines"]]
    assert "open-cross-origin" not in names
    # The console's own origin (and a script, which sends neither header) may write.
    answer = raw(console_server, "POST", "/console/api/validate",
                 json.dumps({"definition": ORDER_DEFINITION}),
                 {**json_type, "Origin": console_server.url})
    assert answer.status == 200 and json.loads(answer.body)["result"] == "OK"

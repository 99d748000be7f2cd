"""SigV4 verification against requests botocore's own signer signed (no server needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from statewright.api import sigv4

KEY, SECRET = "SWAKTESTKEY000000000", "s3cr3t/with+chars"
NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


def _secret_of(key: str) -> str | None:
    return SECRET if key == KEY else None


def _sign(url: str, body: bytes = b"{}", *, method: str = "POST", service: str = "states",
          region: str = "us-east-1", when: datetime = NOW, secret: str = SECRET,
          headers: dict[str, str] | None = None) -> AWSRequest:
    """botocore's SigV4Auth.add_auth, at ``when`` instead of the clock's now."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"})
    signer = SigV4Auth(Credentials(KEY, secret), service, region)
    request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(
        request, signer.signature(signer.string_to_sign(request, canonical), request))
    return request


def _received(request: AWSRequest) -> sigv4.Request:
    """The request as the server sees it: the wire's path, query and headers."""
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(k.lower(), v) for k, v in prepared.headers.items()]
    headers.append(("host", parts.netloc))
    body = prepared.body or b""
    return sigv4.Request(prepared.method, parts.path, parts.query, headers,
                         body if isinstance(body, bytes) else body.encode())


def _verify(request: sigv4.Request, service: str = "states", now: datetime = NOW) -> str:
    return sigv4.verify(request, service, _secret_of, now)


def _refused(request: sigv4.Request, service: str = "states", now: datetime = NOW
             ) -> sigv4.AuthFailure:
    with pytest.raises(sigv4.AuthFailure) as raised:
        _verify(request, service, now)
    return raised.value


def test_a_header_signature_from_botocore_is_accepted_in_any_region() -> None:
    for region in ("us-east-1", "eu-west-3", "ap-southeast-2"):
        request = _received(_sign("http://127.0.0.1:8083/", region=region))
        assert _verify(request) == KEY


def test_the_lambda_path_is_signed_as_sent_even_with_an_encoded_arn() -> None:
    # botocore sends an ARN FunctionName with %3A in the path and signs it encoded again.
    url = ("http://localhost:8083/2015-03-31/functions/"
           "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders/invocations")
    request = _received(_sign(url, b'{"a": 1}', service="lambda", headers={}))
    assert _verify(request, "lambda") == KEY


def test_a_query_string_signature_is_accepted_until_it_expires() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:8083/2015-03-31/functions/",
                         params={"MaxItems": "5", "Marker": "a b/c"})
    signer = SigV4QueryAuth(Credentials(KEY, SECRET), "lambda", "us-east-1", expires=60)
    request.context["timestamp"] = NOW.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(
        request, signer.signature(signer.string_to_sign(request, canonical), request))
    received = _received(request)
    assert "X-Amz-Signature=" in received.query
    assert _verify(received, "lambda", NOW + timedelta(seconds=59)) == KEY
    late = _refused(received, "lambda", NOW + timedelta(seconds=61))
    assert (late.kind, late.message.startswith("Signature expired")) == ("bad_signature", True)
    changed = sigv4.Request(received.method, received.raw_path,
                            received.query.replace("MaxItems=5", "MaxItems=50"),
                            received.headers, received.body)
    assert _refused(changed, "lambda").kind == "bad_signature"


@pytest.mark.parametrize(("shift", "kind", "start"), [
    (timedelta(minutes=-4, seconds=-59), None, None),
    (timedelta(minutes=4, seconds=59), None, None),
    (timedelta(minutes=-5, seconds=-1), "bad_signature", "Signature expired: "),
    (timedelta(minutes=5, seconds=1), "bad_signature", "Signature not yet current: "),
])
def test_the_clock_may_differ_by_five_minutes(shift: timedelta, kind: str | None,
                                              start: str | None) -> None:
    request = _received(_sign("http://127.0.0.1:8083/", when=NOW + shift))
    if kind is None:
        assert _verify(request) == KEY
        return
    failure = _refused(request)
    assert failure.kind == kind and failure.message.startswith(start or "")


def test_refusals_name_what_is_wrong() -> None:
    signed = _received(_sign("http://127.0.0.1:8083/"))
    unsigned = sigv4.Request("POST", "/", "", [("host", "h")], b"{}")
    assert _refused(unsigned).kind == "missing"
    assert _refused(_received(_sign("http://127.0.0.1:8083/", secret="other"))).kind == \
        "bad_signature"
    other_key = sigv4.Request(signed.method, signed.raw_path, signed.query, [
        (k, v.replace(KEY, "SWAKUNKNOWN000000000")) for k, v in signed.headers], signed.body)
    assert _refused(other_key).kind == "unknown_key"
    tampered = sigv4.Request(signed.method, signed.raw_path, signed.query, signed.headers,
                             b'{"maxResults": 1}')
    assert _refused(tampered).kind == "bad_signature"
    assert _refused(signed, service="lambda").message.startswith(
        "Credential should be scoped to correct service: 'lambda'")
    no_signature = sigv4.Request("POST", "/", "", [
        ("host", "h"), ("x-amz-date", "20261203T120000Z"),
        ("authorization", f"AWS4-HMAC-SHA256 Credential={KEY}/20261203/us-east-1/states/"
                          "aws4_request, SignedHeaders=host;x-amz-date")], b"")
    failure = _refused(no_signature)
    assert failure.kind == "incomplete"
    assert "Authorization header requires 'Signature' parameter." in failure.message
    other_scheme = sigv4.Request("POST", "/", "", [("host", "h"), ("authorization", "Basic x")],
                                 b"")
    assert _refused(other_scheme).kind == "incomplete"


def test_a_signed_header_must_be_sent_and_its_value_is_covered() -> None:
    signed = _received(_sign("http://127.0.0.1:8083/"))
    changed: list[Any] = [(k, "AWSStepFunctions.DeleteStateMachine" if k == "x-amz-target"
                           else v) for k, v in signed.headers]
    assert _refused(sigv4.Request("POST", "/", "", changed, signed.body)).kind == \
        "bad_signature"
    dropped = [(k, v) for k, v in signed.headers if k != "x-amz-target"]
    assert _refused(sigv4.Request("POST", "/", "", dropped, signed.body)).kind == \
        "bad_signature"


def test_a_declared_payload_hash_must_be_the_bodys() -> None:
    headers = {"X-Amz-Content-SHA256": "0" * 64, "X-Amz-Target": "x"}
    request = _received(_sign("http://127.0.0.1:8083/", headers=headers))
    assert _refused(request).message.startswith("The provided 'x-amz-content-sha256'")

"""AWS Signature Version 4: checking that a request was signed with a known access key.

The canonical request, string to sign and signing key are computed by botocore's own signer
(``SigV4Auth``), the code that signs the requests of boto3 and the AWS CLI, fed with exactly
what the client signed: the headers named in ``SignedHeaders`` (not those botocore would pick),
the path as sent on the wire (SigV4 for services other than S3 encodes it once more), the
query string decoded and re-encoded, and the SHA-256 of the body as received. Both signature
styles are accepted: the ``Authorization`` header and the query string (presigned URLs,
``X-Amz-Signature``). Any region; the service must be the one the request is for.

Refusals are AWS's (``AuthFailure.kind``): no signature at all (missing), a signature that
lacks parts (incomplete), an access key that does not exist (unknown key), a signature that
does not match or a timestamp more than 5 minutes away from the server's clock, or a
presigned URL past its ``X-Amz-Expires`` (bad signature). Signatures are compared in constant
time. ``api/auth.py`` renders the failures in each service's protocol.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.client import HTTPMessage
from typing import Any, Literal
from urllib.parse import unquote

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far a request's timestamp may be from the server's clock, as AWS allows.
MAX_SKEW = timedelta(minutes=5)
#: The longest a presigned URL may live (7 days), as AWS allows.
MAX_EXPIRES = 604800
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AMZ_DATE_PATTERN = re.compile(r"^\d{8}T\d{6}Z$")

FailureKind = Literal["missing", "incomplete", "unknown_key", "bad_signature", "too_large",
                      "denied"]


class AuthFailure(Exception):
    """The request is refused; ``kind`` picks the service's error code."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    """What SigV4 covers of an HTTP request, as received."""

    method: str
    """``GET``, ``POST``..."""
    raw_path: str
    """The path as sent (percent-encoding intact), without the query string."""
    query: str
    """The raw query string ("" when none)."""
    headers: Sequence[tuple[str, str]]
    """Every header, names lower-cased, in order (a name may repeat)."""
    body: bytes
    """The body as received."""


@dataclass(frozen=True, slots=True)
class Signature:
    """The parts of a signature, from the Authorization header or the query string."""

    access_key_id: str
    """The key it names."""
    scope_date: str
    """The credential scope's date, ``YYYYMMDD``."""
    region: str
    """The credential scope's region (any)."""
    service: str
    """The credential scope's service (``states``, ``lambda``, ``iam``)."""
    signed_headers: list[str]
    """The headers signed, lower-case."""
    signature: str
    """The hex signature."""
    amz_date: str
    """``X-Amz-Date`` (or the ``Date`` header, converted)."""
    expires: int | None
    """Seconds a presigned URL lives; None for a header signature."""


def verify(request: Request, service: str, secret_of: Callable[[str], str | None],
           now: datetime) -> str:
    """The access key id the request was signed with; raises AuthFailure otherwise.
    ``secret_of`` gives a key's secret, None for an unknown key."""
    signature = check_head(request, service, now)
    secret = secret_of(signature.access_key_id)
    if secret is None:
        raise unknown_key()
    check_signature(request, signature, secret)
    return signature.access_key_id


def check_head(request: Request, service: str, now: datetime) -> Signature:
    """The signature's parts, once its form, timestamp and scope are right: everything that
    needs neither the body nor the database (the server refuses most bad requests before
    reading their body)."""
    signature = _parse(request, _query_pairs(request.query))
    when = _check_time(signature, now)
    if signature.scope_date != when.strftime("%Y%m%d"):
        raise AuthFailure("bad_signature", "Date in Credential scope does not match YYYYMMDD "
                          "from ISO-8601 version of date from HTTP: "
                          f"'{signature.scope_date}' != '{when.strftime('%Y%m%d')}', "
                          f"from '{signature.amz_date}'.")
    if signature.service != service:
        raise AuthFailure("bad_signature",
                          f"Credential should be scoped to correct service: '{service}'. ")
    return signature


def unknown_key() -> AuthFailure:
    return AuthFailure("unknown_key", "The security token included in the request is invalid.")


def check_signature(request: Request, signature: Signature, secret: str) -> None:
    """Raises AuthFailure unless ``signature`` is the request's, made with ``secret``."""
    expected = _compute(request, _query_pairs(request.query), signature, secret)
    if not hmac.compare_digest(expected.encode(), signature.signature.encode()):
        raise AuthFailure(
            "bad_signature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.")


# ----------------------------------------------------------------------------- parsing


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The query string's parameters, decoded (``+`` stays a plus: SigV4 encodes spaces as
    ``%20``, and botocore never sends ``+`` for a space)."""
    pairs = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _header(request: Request, name: str) -> str | None:
    for key, value in request.headers:
        if key == name:
            return value
    return None


def _parse(request: Request, params: list[tuple[str, str]]) -> Signature:
    authorization = _header(request, "authorization")
    query = dict(params)
    if authorization is None and "X-Amz-Signature" not in query and \
            "X-Amz-Credential" not in query:
        raise AuthFailure("missing", "Missing Authentication Token")
    if authorization is not None:
        return _parse_header(request, authorization)
    return _parse_query(query)


def _parse_header(request: Request, authorization: str) -> Signature:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure("incomplete", f"Unsupported AWS 'algorithm': '{algorithm}'. "
                          f"Only '{ALGORITHM}' (Signature Version 4) is accepted.")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, eq, value = item.strip().partition("=")
        if eq:
            fields[key] = value
    amz_date = _header(request, "x-amz-date")
    if amz_date is None and (date := _header(request, "date")) is not None:
        amz_date = _http_date(date)
    missing = [f"Authorization header requires '{name}' parameter."
               for name in ("Credential", "Signature", "SignedHeaders") if name not in fields]
    if amz_date is None:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or "
                       "a 'Date' header.")
    if missing:
        raise AuthFailure("incomplete", " ".join(missing) + f" Authorization={authorization}")
    assert amz_date is not None
    return _signature(fields["Credential"], fields["SignedHeaders"], fields["Signature"],
                      amz_date, None)


def _parse_query(query: dict[str, str]) -> Signature:
    names = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
             "X-Amz-Signature")
    missing = [name for name in names if name not in query]
    if missing:
        raise AuthFailure("incomplete", "AWS query-string parameters missing: "
                          + ", ".join(f"'{name}'" for name in missing) + ".")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure("incomplete", f"Unsupported AWS 'algorithm': "
                          f"'{query['X-Amz-Algorithm']}'.")
    expires: int | None = None
    if "X-Amz-Expires" in query:
        raw = query["X-Amz-Expires"]
        if not raw.isdigit() or not 0 < int(raw) <= MAX_EXPIRES:
            raise AuthFailure("incomplete", f"X-Amz-Expires must be a number of seconds "
                              f"between 1 and {MAX_EXPIRES}, not '{raw}'.")
        expires = int(raw)
    return _signature(query["X-Amz-Credential"], query["X-Amz-SignedHeaders"],
                      query["X-Amz-Signature"], query["X-Amz-Date"], expires or MAX_EXPIRES)


def _signature(credential: str, signed: str, signature: str, amz_date: str,
               expires: int | None) -> Signature:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise AuthFailure("incomplete", f"Credential must have exactly 5 slash-delimited "
                          f"elements, e.g. keyid/date/region/service/term, got '{credential}'")
    if not _AMZ_DATE_PATTERN.match(amz_date):
        raise AuthFailure("incomplete", f"Date must be in ISO-8601 'basic format'. Got "
                          f"'{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601")
    headers = signed.split(";")
    if "host" not in headers:
        raise AuthFailure("bad_signature", "'Host' must be a 'SignedHeader' in the AWS "
                          "Authorization.")
    return Signature(parts[0], parts[1], parts[2], parts[3], headers, signature, amz_date,
                      expires)


def _http_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime(_AMZ_DATE)
    except (TypeError, ValueError):
        return None


def _check_time(signature: Signature, now: datetime) -> datetime:
    text = signature.amz_date  # checked against _AMZ_DATE_PATTERN: digits where expected
    try:
        when = datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]),
                        int(text[11:13]), int(text[13:15]), tzinfo=UTC)
    except ValueError:
        raise AuthFailure("incomplete", f"Date must be in ISO-8601 'basic format'. Got "
                          f"'{signature.amz_date}'.") from None
    stamp = now.strftime(_AMZ_DATE)
    if signature.expires is not None and now > when + timedelta(seconds=signature.expires):
        raise AuthFailure("bad_signature", f"Signature expired: {signature.amz_date} is now "
                          f"earlier than {(now - timedelta(seconds=signature.expires)).strftime(_AMZ_DATE)} "  # noqa: E501
                          f"({stamp} - {signature.expires} sec.)")
    if signature.expires is None and when < now - MAX_SKEW:
        raise AuthFailure("bad_signature", f"Signature expired: {signature.amz_date} is now "
                          f"earlier than {(now - MAX_SKEW).strftime(_AMZ_DATE)} "
                          f"({stamp} - 5 min.)")
    if when > now + MAX_SKEW:
        raise AuthFailure("bad_signature", f"Signature not yet current: {signature.amz_date} "
                          f"is still later than {(now + MAX_SKEW).strftime(_AMZ_DATE)} "
                          f"({stamp} + 5 min.)")
    return when


# ----------------------------------------------------------------------------- computing


class _Signer(SigV4Auth):  # type: ignore[misc]
    """botocore's signer, told which headers the client signed."""

    def __init__(self, credentials: Any, service: str, region: str,
                 signed: HTTPMessage) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> HTTPMessage:
        return self._signed


def _compute(request: Request, params: list[tuple[str, str]], signature: Signature,
             secret: str) -> str:
    body_hash = hashlib.sha256(request.body).hexdigest()
    declared = _header(request, "x-amz-content-sha256")
    if declared is not None and declared != body_hash:
        # botocore would sign the declared hash; it must then be the body's.
        raise AuthFailure("bad_signature", "The provided 'x-amz-content-sha256' header does "
                          "not match what was computed.")
    signed = HTTPMessage()
    for name in signature.signed_headers:
        values = [value for key, value in request.headers if key == name]
        if not values:
            raise AuthFailure("bad_signature", f"The request signature names header '{name}', "
                              "which the request does not have.")
        for value in values:
            signed[name] = value
    unsigned_params = [(k, v) for k, v in params if k != "X-Amz-Signature"]
    aws_request = AWSRequest(method=request.method, url=f"http://signed{request.raw_path}",
                             params=unsigned_params)
    # botocore takes the payload hash from this header when present: the body's, computed
    # once above (and the declared one was checked against it).
    aws_request.headers["X-Amz-Content-SHA256"] = body_hash
    aws_request.context["timestamp"] = signature.amz_date
    signer = _Signer(Credentials(signature.access_key_id, secret), signature.service,
                     signature.region, signed)
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))

"""Packages and raw requests for the Lambda API tests."""

from __future__ import annotations

import io
import json
import textwrap
import urllib.error
import urllib.request
import zipfile
from typing import Any

from tests.api.conftest import ACCOUNT, REGION

ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-tests"
FUNCTIONS = "/2015-03-31/functions"


def zipped(**files: str | bytes) -> bytes:
    """A zip of ``{name: text}``; dedented, so handlers can be written inline."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            data = text if isinstance(text, bytes) else textwrap.dedent(text)
            archive.writestr(name.replace("__", "/"), data)
    return buffer.getvalue()


def python_function(body: str, module: str = "app") -> dict[str, Any]:
    """CreateFunction arguments for a Python handler whose source is ``body``."""
    return {"Runtime": "python3.12", "Role": ROLE, "Handler": f"{module}.handler",
            "Code": {"ZipFile": zipped(**{f"{module}.py": body})}}


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def raw(url: str, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request as-is; returns status, headers (lower-case names) and body."""
    request = urllib.request.Request(url + path, data=body, method=method)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (response.status, {k.lower(): v for k, v in response.headers.items()},
                    response.read())
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def lambda_error(url: str, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """A request expected to fail: status, x-amzn-ErrorType and the message."""
    status, answer_headers, answer = raw(url, method, path, body, headers)
    decoded = json.loads(answer)
    assert decoded["Type"] == ("User" if status < 500 else "Service"), decoded
    message = decoded.get("message", decoded.get("Message"))
    return status, answer_headers["x-amzn-errortype"], message

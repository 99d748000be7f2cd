"""What checking SigV4 costs a request (issue 12).

Run from the repository root::

    .venv/bin/python bench/auth_overhead.py [--requests N]

Two measurements, printed as a markdown table:

1. ``api.sigv4.verify`` in-process on a ListStateMachines request botocore signed (canonical
   request, string to sign, HMAC chain, constant-time compare): microseconds per request.
2. Requests per second through a real ``statewright serve`` (SQLite, one boto3 client,
   ListStateMachines in a loop), without any access key and with one (every request signed
   by boto3 and verified by the server, which reads the key from the database); then, on the
   same server, with a key bound to an IAM role (``keys create --role``: every request is also
   authorised against the role's inline policy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from statewright.api import sigv4

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.conftest import start_server, stop_server  # noqa: E402


def verify_cost(count: int) -> float:
    request = AWSRequest(method="POST", url="http://127.0.0.1:8083/", data=b"{}", headers={
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials("SWAKBENCH", "secret"), "states", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = [(k.lower(), v) for k, v in prepared.headers.items()] + [
        ("host", urlsplit(prepared.url).netloc)]
    received = sigv4.Request("POST", "/", "", headers, b"{}")
    now = datetime.now(UTC)
    start = time.perf_counter()
    for _ in range(count):
        sigv4.verify(received, "states", lambda key: "secret", now)
    return (time.perf_counter() - start) / count * 1e6


def _rate(client: Any, count: int) -> float:
    call = client.list_state_machines
    call()
    start = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - start)


def server_rates(count: int, signed: bool) -> list[float]:
    """Requests/s without a key; else with an administrator's key and a role-bound one."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "STATEWRIGHT_SERVER_KEY_FILE": f"{folder}/server.key"}
        key_id, secret = "x", "x"
        if signed:
            created = subprocess.run(
                [sys.executable, "-m", "statewright.cli", "keys", "create", "--db",
                 f"sqlite:///{folder}/db.sqlite"], capture_output=True, text=True, env=env,
                check=True)
            key = json.loads(created.stdout)
            key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
        process, server = start_server(Path(folder), None, env=env)

        def client(service: str, key: str, password: str) -> Any:
            return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                                aws_access_key_id=key, aws_secret_access_key=password,
                                config=Config(retries={"total_max_attempts": 1}))

        try:
            rates = [_rate(client("stepfunctions", key_id, secret), count)]
            if signed:
                iam = client("iam", key_id, secret)
                iam.create_role(
                    RoleName="bench", AssumeRolePolicyDocument=json.dumps({
                        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                       "Principal": {"Service": "lambda.amazonaws.com"}}]}))
                iam.put_role_policy(
                    RoleName="bench", PolicyName="list", PolicyDocument=json.dumps({
                        "Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "states:List*", "Resource": "*"}]}))
                bound = json.loads(subprocess.run(
                    [sys.executable, "-m", "statewright.cli", "keys", "create", "--role",
                     "bench", "--db", f"sqlite:///{folder}/db.sqlite"], capture_output=True,
                    text=True, env=env, check=True).stdout)
                rates.append(_rate(client("stepfunctions", bound["AccessKeyId"],
                                          bound["SecretAccessKey"]), count))
            return rates
        finally:
            stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    cost = verify_cost(5000)
    (open_rate,) = server_rates(args.requests, signed=False)
    signed_rate, bound_rate = server_rates(args.requests, signed=True)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| sigv4.verify, in-process | {cost:.0f} µs/request |")
    print(f"| ListStateMachines, no key (unsigned checks off) | {open_rate:.0f} requests/s |")
    print(f"| ListStateMachines, signed and verified | {signed_rate:.0f} requests/s |")
    print(f"| ListStateMachines, role-bound key (also authorised) | {bound_rate:.0f} "
          "requests/s |")


if __name__ == "__main__":
    main()

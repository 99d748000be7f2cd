"""The ``Store`` methods for access keys, server secrets and IAM roles and policies, written
once for every SQL backend over ``SqlStore``'s hooks (``_read``, ``_writing``, ``_insert``)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from statewright.store.base import AccessKeyRecord, PolicyRecord, RoleRecord


class _Hooks(Protocol):
    _q: Mapping[str, str]

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[Any]: ...

    def _writing(self) -> AbstractContextManager[Any]: ...

    def _insert(self, query: str, params: Mapping[str, Any], duplicate: str) -> None: ...


class AccessSql:
    """Mixed into ``SqlStore``."""

    # ------------------------------------------------------------------ access keys

    def put_access_key(self: _Hooks, record: AccessKeyRecord) -> None:
        params = {"access_key_id": record.access_key_id, "name": record.name,
                  "sealed_secret": record.sealed_secret, "created_at": record.created_at,
                  "role_arn": record.role_arn, "function_name": record.function_name}
        self._insert(self._q["insert_access_key"], params,
                     f"access key {record.access_key_id} already exists")

    def get_access_key(self: _Hooks, access_key_id: str) -> AccessKeyRecord | None:
        rows = self._read(self._q["get_access_key"], {"access_key_id": access_key_id})
        return AccessKeyRecord(*rows[0]) if rows else None

    def list_access_keys(self: _Hooks) -> list[AccessKeyRecord]:
        return [AccessKeyRecord(*row) for row in self._read(self._q["list_access_keys"])]

    def has_access_keys(self: _Hooks) -> bool:
        return bool(self._read(self._q["any_access_key"])[0][0])

    def delete_access_key(self: _Hooks, access_key_id: str) -> bool:
        return _changed(self, "delete_access_key", {"access_key_id": access_key_id})

    def function_access_keys(self: _Hooks, function_name: str) -> list[AccessKeyRecord]:
        rows = self._read(self._q["function_access_keys"], {"function_name": function_name})
        return [AccessKeyRecord(*row) for row in rows]

    def delete_function_access_keys(self: _Hooks, function_name: str,
                                    keep_role: str = "") -> int:
        with self._writing() as conn:
            return int(conn.execute(self._q["delete_function_access_keys"], {
                "function_name": function_name, "keep_role": keep_role}).rowcount)

    # ------------------------------------------------------------------ console sessions

    def put_console_session(self: _Hooks, session_id: str, access_key_id: str,
                            issued_at: float, expires_at: float) -> None:
        with self._writing() as conn:
            conn.execute(self._q["delete_expired_console_sessions"], {"now": issued_at})
            conn.execute(self._q["insert_console_session"], {
                "session_id": session_id, "access_key_id": access_key_id,
                "issued_at": issued_at, "expires_at": expires_at})

    def console_session_live(self: _Hooks, session_id: str, now: float) -> bool:
        rows = self._read(self._q["console_session_live"], {"session_id": session_id, "now": now})
        return bool(rows[0][0])

    def delete_console_session(self: _Hooks, session_id: str) -> bool:
        return _changed(self, "delete_console_session", {"session_id": session_id})

    def server_secret(self: _Hooks, name: str, candidate: str) -> str:
        rows = self._read(self._q["get_server_secret"], {"name": name})
        if rows:
            return str(rows[0][0])
        with self._writing() as conn:
            conn.execute(self._q["insert_server_secret"], {"name": name, "value": candidate})
            return str(conn.execute(self._q["get_server_secret"], {"name": name}).fetchone()[0])

    # ------------------------------------------------------------------ roles

    def create_role(self: _Hooks, record: RoleRecord) -> None:
        params = {"name": record.name, "arn": record.arn, "role_id": record.role_id,
                  "path": record.path, "assume_role_policy": record.assume_role_policy,
                  "description": record.description,
                  "max_session_duration": record.max_session_duration,
                  "created_at": record.created_at}
        self._insert(self._q["insert_role"], params, f"role {record.name} already exists")

    def get_role(self: _Hooks, name: str) -> RoleRecord | None:
        rows = self._read(self._q["get_role"], {"name": name})
        return _role(rows[0]) if rows else None

    def list_roles(self: _Hooks) -> list[RoleRecord]:
        return [_role(row) for row in self._read(self._q["list_roles"])]

    def update_assume_role_policy(self: _Hooks, name: str, document: str) -> bool:
        return _changed(self, "update_assume_role_policy",
                        {"name": name, "assume_role_policy": document})

    def delete_role(self: _Hooks, name: str) -> bool:
        return _changed(self, "delete_role", {"name": name})

    def put_role_policy(self: _Hooks, role_name: str, policy_name: str, document: str) -> None:
        with self._writing() as conn:
            conn.execute(self._q["upsert_role_policy"], {
                "role_name": role_name, "policy_name": policy_name, "document": document})

    def get_role_policy(self: _Hooks, role_name: str, policy_name: str) -> str | None:
        rows = self._read(self._q["get_role_policy"],
                          {"role_name": role_name, "policy_name": policy_name})
        return str(rows[0][0]) if rows else None

    def list_role_policies(self: _Hooks, role_name: str) -> list[tuple[str, str]]:
        rows = self._read(self._q["list_role_policies"], {"role_name": role_name})
        return [(str(name), str(document)) for name, document in rows]

    def delete_role_policy(self: _Hooks, role_name: str, policy_name: str) -> bool:
        return _changed(self, "delete_role_policy",
                        {"role_name": role_name, "policy_name": policy_name})

    # ------------------------------------------------------------------ managed policies

    def create_policy(self: _Hooks, record: PolicyRecord) -> None:
        params = {"arn": record.arn, "name": record.name, "policy_id": record.policy_id,
                  "path": record.path, "document": record.document,
                  "description": record.description, "created_at": record.created_at}
        self._insert(self._q["insert_policy"], params, f"policy {record.arn} already exists")

    def get_policy(self: _Hooks, arn: str) -> PolicyRecord | None:
        rows = self._read(self._q["get_policy"], {"arn": arn})
        return PolicyRecord(*rows[0]) if rows else None

    def list_policies(self: _Hooks) -> list[PolicyRecord]:
        return [PolicyRecord(*row) for row in self._read(self._q["list_policies"])]

    def delete_policy(self: _Hooks, arn: str) -> bool:
        return _changed(self, "delete_policy", {"arn": arn})

    def attach_role_policy(self: _Hooks, role_name: str, policy_arn: str) -> None:
        with self._writing() as conn:
            conn.execute(self._q["attach_policy"],
                         {"role_name": role_name, "policy_arn": policy_arn})

    def detach_role_policy(self: _Hooks, role_name: str, policy_arn: str) -> bool:
        return _changed(self, "detach_policy", {"role_name": role_name, "policy_arn": policy_arn})

    def list_attached_role_policies(self: _Hooks, role_name: str) -> list[str]:
        rows = self._read(self._q["list_attached_policies"], {"role_name": role_name})
        return [str(row[0]) for row in rows]

    def count_policy_attachments(self: _Hooks, policy_arn: str) -> int:
        return int(self._read(self._q["count_policy_attachments"], {"arn": policy_arn})[0][0])


def _changed(store: _Hooks, query: str, params: Mapping[str, Any]) -> bool:
    """Runs one write; whether it changed a row."""
    with store._writing() as conn:
        return bool(conn.execute(store._q[query], params).rowcount > 0)


def _role(row: Any) -> RoleRecord:
    name, arn, role_id, path, trust, description, max_session, created_at = row
    return RoleRecord(name, arn, role_id, path, trust, description, int(max_session),
                      float(created_at))

"""The one mapping of database failures to API errors, for both APIs.

A database that is down is an outage: HTTP 503, which every AWS SDK retries. A database that
is up but busy (a lock not had in time, other writers winning every race for an execution) is
throttling, in each API's own shape. Neither is ever a 500: that status means a bug.

Verdicts of the store on the request itself (AlreadyExists, NotFound, Conflict, InvalidToken)
are not failures; each caller translates those into its API's own words.
"""

from __future__ import annotations

from typing import Literal

from statewright import errors
from statewright.store.base import StoreBusy, StoreError

Service = Literal["states", "lambda"]


class TooManyConflicts(StoreBusy):
    """Other writers kept changing the execution first: the step was not applied."""


def api_error(exc: StoreError, service: Service = "states") -> errors.AwsError:
    """The error the API answers for a failed store call."""
    busy = isinstance(exc, StoreBusy)
    if service == "lambda":
        if busy:
            return errors.TooManyRequestsException(f"Rate exceeded: {exc}")
        return errors.ServiceUnavailableException(f"The database is unavailable: {exc}")
    if busy:
        return errors.ThrottlingException(f"Rate exceeded: {exc}")
    return errors.ServiceUnavailable(f"The database is unavailable: {exc}")

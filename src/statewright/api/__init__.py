"""The AWS-compatible HTTP API: Step Functions' awsJson 1.0 protocol over the Engine."""

from __future__ import annotations

from statewright.api.app import create_app

__all__ = ["create_app"]

"""The web console: pages and a small JSON API under ``/console``, served by every server.

Everything the browser loads ships inside the package (``static/``: HTML, CSS, JS modules and
the vendored dagre graph layout); nothing is fetched from elsewhere, and the pages' Content
Security Policy forbids it. The console reads and writes through ``runtime.Engine`` only, the
same facade the AWS API uses, so there is one source of truth.
"""

from __future__ import annotations

from statewright.console.routes import PREFIX, routes

__all__ = ["PREFIX", "routes"]

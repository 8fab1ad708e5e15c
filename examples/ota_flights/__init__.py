"""云途旅行 Cloudway Travel: an example OTA flight-booking site (FastAPI + Jinja2) on the ``bnpl_fastapi`` plugin.

Run it with ``python -m examples.ota_flights`` (see README.md in this folder).
"""

from __future__ import annotations

from .app import SiteConfig, create_app
from .server import RunningSite, running_site

__all__ = ["RunningSite", "SiteConfig", "create_app", "running_site"]

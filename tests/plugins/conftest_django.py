"""Django for the django-payments and Oscar plugin tests: one configured Django per process, so both test
projects share one settings object (django_project + oscar_project merged), an SQLite database in a temporary
directory migrated once, a running sandbox lender, and an inbox that captures its signed webhook deliveries so
the tests can replay them (once, twice, out of order) into the real Django views.

Import it from a test module (it is not a pytest conftest, so it does not clash with tests/plugins/conftest.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MARKER_APP = "django_project.shop"
WAIT_SECONDS = 30.0


def configure() -> None:
    """Configure Django with both test projects (idempotent)."""
    if settings.configured:
        if MARKER_APP not in settings.INSTALLED_APPS:
            pytest.skip(
                "Django was configured by another test module first; run the plugin tests in their own process "
                "(pytest tests/plugins) or before tests/webhooks",
                allow_module_level=True,
            )
        return
    from django_project import settings as dp
    from oscar_project import settings as op

    merged = {name: getattr(op, name) for name in dir(op) if name.isupper()}
    merged.update({name: getattr(dp, name) for name in dir(dp) if name.isupper() and name != "INSTALLED_APPS"})
    merged["INSTALLED_APPS"] = [*op.INSTALLED_APPS, *dp.INSTALLED_APPS]
    db_dir = tempfile.mkdtemp(prefix="bnpl-django-tests-")
    settings.configure(
        **merged,
        DEBUG=False,
        SECRET_KEY="test-only-not-secret",
        ALLOWED_HOSTS=["testserver", "shop.example"],
        ROOT_URLCONF="django_project.root_urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(db_dir) / "shop.sqlite3")}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        STATIC_URL="/static/",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast test users
    )
    django.setup()


_migrated = False


def migrate() -> None:
    """Run every migration once per process (Oscar's, django-payments', ours)."""
    global _migrated
    if _migrated:
        return
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    _migrated = True


@dataclass(frozen=True)
class Delivery:
    """One signed webhook delivery exactly as the lender sent it."""

    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def django_headers(self) -> dict[str, str]:
        """The Standard Webhooks headers, for ``django.test.Client.post(..., headers=...)``."""
        return {k: v for k, v in self.headers.items() if k.lower().startswith("webhook-")}


class Inbox:
    """A real HTTP endpoint on 127.0.0.1 that records what the sandbox delivers and answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        inbox = self

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with inbox._cond:
                    inbox.deliveries.append(Delivery(body, {k.lower(): v for k, v in self.headers.items()}))
                    inbox._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def wait_for(self, event_type: str, object_id: str) -> Delivery:
        """The first delivery of ``event_type`` about ``object_id`` (waits on a condition, up to 30 s)."""

        def found() -> Delivery | None:
            for d in self.deliveries:
                ev = d.event
                if ev["type"] == event_type and ev["object_id"] == object_id:
                    return d
            return None

        with self._cond:
            hit = self._cond.wait_for(found, timeout=WAIT_SECONDS)
        if hit is None:
            seen = [(d.event["type"], d.event["object_id"]) for d in self.deliveries]
            raise AssertionError(f"no {event_type} for {object_id} delivered within {WAIT_SECONDS}s; got {seen}")
        return hit

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Lender:
    """The running sandbox, its API client and the registered webhook endpoint."""

    base_url: str
    secret_key: str
    webhook_secret: str
    inbox: Inbox
    client: Any


@pytest.fixture(scope="module")
def lender(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lender]:
    """A sandbox lender on SQLite with a webhook endpoint delivering to an :class:`Inbox`."""
    from bnpl.client import Client
    from bnpl.sandbox import Settings, run_sandbox

    inbox = Inbox()
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    with run_sandbox(str(path), settings=Settings(expiry_sweep_seconds=0)) as sb:
        client = Client(api_key=sb.secret_key, base_url=sb.base_url)
        endpoint = client.webhook_endpoints.create(url=inbox.url, enabled_events=["*"])
        yield Lender(sb.base_url, sb.secret_key, endpoint.secret, inbox, client)
        client.close()
    inbox.close()


def approve(approval_url: str, action: str = "confirm") -> str:
    """Walk the hosted approval page as the customer; returns where the lender sent them back."""
    from bnpl.sandbox.customer import complete_hosted_page

    outcome = complete_hosted_page(approval_url, plan=0, action=action)  # type: ignore[arg-type]
    return str(outcome.redirect_url)


Replay = Callable[[Delivery], Any]

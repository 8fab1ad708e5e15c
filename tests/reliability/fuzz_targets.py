"""Fuzz targets shared by the hypothesis tests (tests/reliability/test_fuzz.py, every CI run) and the atheris
runner (``python tests/reliability/fuzz_targets.py [atheris options]``, coverage-guided, run by hand).

Each target takes arbitrary bytes and fails (raises AssertionError or an unexpected exception type) only when the
code under test breaks its contract:

* ``webhook_target``: ``Webhook.verify`` / ``unwrap`` on arbitrary bodies and headers either accept (only a body
  we signed ourselves) or raise ``WebhookVerificationError``, whose message never shows the secret
  (``unwrap``: ``EventParseError`` for a signed body that is no event); a genuine
  signature over arbitrary bytes always verifies, and any single-byte change of the body never does;
* ``money_target``: ``Money.of`` on arbitrary text and currencies either returns an integer minor-unit amount that
  round-trips exactly, or raises ``MoneyError``/``ValueError``/``TypeError`` (never floats, never anything else);
  the models' amount fields accept exactly the non-negative ints (``bool`` and ``float`` refused).
"""

from __future__ import annotations

import contextlib
import sys
import time
from decimal import Decimal, InvalidOperation, localcontext

from pydantic import ValidationError

from bnpl.models.events import EventParseError
from bnpl.models.orders import CaptureParams
from bnpl.money import Money, MoneyError
from bnpl.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
_WEBHOOK = Webhook(SECRET)
CURRENCIES = ("CNY", "JPY", "KWD", "USD", "EUR", "XXX", "cny", "", "KW", "JPY1")


def webhook_target(data: bytes) -> None:
    """Verification never accepts a forgery and never fails a genuine signature."""
    cut = data[0] % (len(data) or 1) if data else 0
    body, rest = data[:cut], data[cut:]
    text = rest.decode("utf-8", "replace")
    forged = {"webhook-id": text[:20], "webhook-timestamp": str(int(time.time())), "webhook-signature": text[20:]}
    message = None
    try:
        _WEBHOOK.verify(body, forged)
    except WebhookVerificationError as exc:
        message = str(exc)
    if message is None:
        raise AssertionError("a forged signature verified")
    assert SECRET[6:] not in message
    headers = _WEBHOOK.sign("msg_" + str(len(body)), int(time.time()), body)
    _WEBHOOK.verify(body, headers)  # genuine: must pass
    if body:
        tampered = bytes([body[0] ^ 0x01]) + body[1:]
        try:
            _WEBHOOK.verify(tampered, headers)
        except WebhookVerificationError:
            pass
        else:
            raise AssertionError("a tampered body verified")
    with contextlib.suppress(EventParseError):  # signed but not an event: the documented typed error
        _WEBHOOK.unwrap(body, headers)


def money_target(data: bytes) -> None:
    """``Money.of`` returns exact integer minor units or a typed error; amount fields take only ints >= 0."""
    currency = CURRENCIES[data[0] % len(CURRENCIES)] if data else "CNY"
    text = data[1:].decode("utf-8", "replace")
    try:
        money = Money.of(text, currency)
    except (MoneyError, ValueError, TypeError, ArithmeticError):
        pass
    else:
        assert type(money.minor) is int
        try:
            exact = Decimal(text.strip())
        except InvalidOperation:
            exact = None
        if exact is not None and exact.is_finite():
            with localcontext() as ctx:
                ctx.prec = 10_000  # compare exactly, whatever the length
                assert Decimal(money.minor).scaleb(-money.currency.exponent) == exact
    for value in (text, int.from_bytes(data[:9] or b"\0", "big", signed=True), len(data) / 3, True):
        try:
            params = CaptureParams.model_validate({"amount": value})
        except ValidationError:
            continue
        assert type(params.amount) is int
        assert params.amount > 0 or params.amount == 0
        assert not isinstance(value, float | bool)


def main() -> None:  # pragma: no cover - the atheris runner, by hand
    """``python tests/reliability/fuzz_targets.py webhook|money [atheris/libFuzzer options]``."""
    import atheris

    target = {"webhook": webhook_target, "money": money_target}[sys.argv.pop(1)]
    atheris.instrument_all()
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

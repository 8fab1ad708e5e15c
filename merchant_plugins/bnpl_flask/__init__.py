"""bnpl_flask: pay-later checkouts for Flask apps.

::

    from flask import Flask
    from bnpl_flask import Bnpl

    app = Flask(__name__)
    app.config["BNPL_WEBHOOK_SECRET"] = "whsec_…"
    bnpl = Bnpl(app)        # /bnpl/webhook, /bnpl/return, /bnpl/as-low-as, /bnpl/widget.js

    @bnpl.on("order.captured")
    def ship(event, order): ...

See docs/plugins/flask.md.
"""

from __future__ import annotations

from bnpl_flask.extension import Bnpl, BnplState, current_bnpl
from bnpl_flask.rawbody import RawBodyMiddleware
from bnpl_merchant_kit import BnplSettings, MemoryOrderStore, MerchantOrder, OrderStore, SQLiteOrderStore

__all__ = [
    "Bnpl",
    "BnplSettings",
    "BnplState",
    "MemoryOrderStore",
    "MerchantOrder",
    "OrderStore",
    "RawBodyMiddleware",
    "SQLiteOrderStore",
    "current_bnpl",
]

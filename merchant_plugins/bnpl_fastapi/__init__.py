"""bnpl_fastapi: pay-later checkouts for FastAPI and Starlette apps.

::

    from fastapi import FastAPI
    from bnpl_fastapi import BnplRouter, BnplRouterDep

    bnpl_router = BnplRouter()                       # settings from BNPL_* environment variables
    app = FastAPI(lifespan=bnpl_router.app_lifespan)
    app.include_router(bnpl_router)                  # /bnpl/webhook, /bnpl/return, /bnpl/as-low-as, /bnpl/widget.js

    @bnpl_router.on("order.captured")
    async def ship(event, order): ...

See docs/plugins/fastapi.md.
"""

from __future__ import annotations

from bnpl_fastapi.deps import BnplClient, BnplRouterDep, get_bnpl_client, get_bnpl_router
from bnpl_fastapi.router import BnplRouter
from bnpl_merchant_kit import BnplSettings, MemoryOrderStore, MerchantOrder, OrderStore, SQLiteOrderStore

__all__ = [
    "BnplClient",
    "BnplRouter",
    "BnplRouterDep",
    "BnplSettings",
    "MemoryOrderStore",
    "MerchantOrder",
    "OrderStore",
    "SQLiteOrderStore",
    "get_bnpl_client",
    "get_bnpl_router",
]

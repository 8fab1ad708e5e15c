"""FastAPI dependencies: the installed :class:`BnplRouter` and its client, for your own routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bnpl.client import AsyncClient
from bnpl_fastapi.router import BnplRouter
from bnpl_merchant_kit import PluginConfigurationError

__all__ = ["BnplClient", "BnplRouterDep", "get_bnpl_client", "get_bnpl_router"]


def get_bnpl_router(request: Request) -> BnplRouter:
    """The :class:`BnplRouter` serving this app (set by its lifespan or ``install``, or by its own routes)."""
    router = getattr(request.state, "bnpl", None) or getattr(request.app.state, "bnpl", None)
    if not isinstance(router, BnplRouter):
        raise PluginConfigurationError(
            "no BnplRouter on this app: use FastAPI(lifespan=bnpl_router.app_lifespan) or bnpl_router.install(app)"
        )
    return router


def get_bnpl_client(router: Annotated[BnplRouter, Depends(get_bnpl_router)]) -> AsyncClient:
    """The lender ``AsyncClient`` configured from the router's settings (``BNPL_API_KEY``, ``BNPL_BASE_URL``).

    Override it in tests with ``app.dependency_overrides[get_bnpl_client] = lambda: my_client``.
    """
    return router.client()


BnplClient = Annotated[AsyncClient, Depends(get_bnpl_client)]
"""Parameter type for your routes: ``async def buy(client: BnplClient): ...``."""

BnplRouterDep = Annotated[BnplRouter, Depends(get_bnpl_router)]
"""Parameter type giving the router (for ``redirect_to_checkout`` and the order book)."""

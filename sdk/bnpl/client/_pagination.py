"""Cursor pages that walk the whole list when iterated (``for c in client.checkouts.list(): ...``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SyncCursorPage(Generic[T]):
    """One page of a list: ``data``, ``has_more``, ``next_cursor``. Iterating yields every item of every page,
    fetching the next page only when this one is used up."""

    __slots__ = ("_fetch_next", "_request_id", "data", "has_more", "next_cursor")

    def __init__(
        self,
        data: list[T],
        has_more: bool,
        next_cursor: str | None,
        fetch_next: Callable[[str], SyncCursorPage[T]],
        request_id: str | None = None,
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.next_cursor = next_cursor
        self._fetch_next = fetch_next
        self._request_id = request_id

    def has_next_page(self) -> bool:
        """Whether the server has more items after this page."""
        return self.has_more and bool(self.next_cursor)

    def next_page(self) -> SyncCursorPage[T]:
        """Fetch the following page; ``StopIteration``-free: raises ``LookupError`` when there is none."""
        if not self.has_next_page() or self.next_cursor is None:
            raise LookupError("This is the last page: check has_next_page() first.")
        return self._fetch_next(self.next_cursor)

    def iter_pages(self) -> Iterator[SyncCursorPage[T]]:
        """Yield this page and each following page."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def auto_paging_iter(self) -> Iterator[T]:
        """Yield every item from this page onwards, across pages."""
        for page in self.iter_pages():
            yield from page.data

    def __iter__(self) -> Iterator[T]:
        return self.auto_paging_iter()

    def __repr__(self) -> str:
        return f"<SyncCursorPage items={len(self.data)} has_more={self.has_more} next_cursor={self.next_cursor!r}>"


class AsyncCursorPage(Generic[T]):
    """The async twin of :class:`SyncCursorPage`: ``async for`` walks every item of every page."""

    __slots__ = ("_fetch_next", "_request_id", "data", "has_more", "next_cursor")

    def __init__(
        self,
        data: list[T],
        has_more: bool,
        next_cursor: str | None,
        fetch_next: Callable[[str], Awaitable[AsyncCursorPage[T]]],
        request_id: str | None = None,
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.next_cursor = next_cursor
        self._fetch_next = fetch_next
        self._request_id = request_id

    def has_next_page(self) -> bool:
        """Whether the server has more items after this page."""
        return self.has_more and bool(self.next_cursor)

    async def next_page(self) -> AsyncCursorPage[T]:
        """Fetch the following page; raises ``LookupError`` when there is none."""
        if not self.has_next_page() or self.next_cursor is None:
            raise LookupError("This is the last page: check has_next_page() first.")
        return await self._fetch_next(self.next_cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncCursorPage[T]]:
        """Yield this page and each following page."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.next_page()

    async def auto_paging_iter(self) -> AsyncIterator[T]:
        """Yield every item from this page onwards, across pages."""
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self.auto_paging_iter()

    def __repr__(self) -> str:
        return f"<AsyncCursorPage items={len(self.data)} has_more={self.has_more} next_cursor={self.next_cursor!r}>"


class AsyncPaginator(Awaitable[AsyncCursorPage[T]], Generic[T]):
    """What an async ``list()`` returns: ``await`` it for the first page, or ``async for`` over every item."""

    __slots__ = ("_first",)

    def __init__(self, first: Callable[[], Awaitable[AsyncCursorPage[T]]]) -> None:
        self._first = first

    def __await__(self) -> Generator[Any, None, AsyncCursorPage[T]]:
        return self._first().__await__()

    async def _items(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

"""A minimal observer: the model announces, views mirror (STYLE.md 1, 9)."""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Event(Generic[T]):
    """A list of subscribers called in subscription order with one payload.

    `subscribe` returns a function that unsubscribes, so owners can drop
    their subscription without keeping a reference to the callback.
    """

    def __init__(self) -> None:
        self._subscribers: list[Callable[[T], Any]] = []

    def subscribe(self, callback: Callable[[T], Any]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, payload: T) -> None:
        for callback in list(self._subscribers):
            callback(payload)

    def __len__(self) -> int:
        return len(self._subscribers)

"""Rows kept in memory by id, until a commit changes them (the directory's caches)."""

import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

# A floor under a lost invalidation: nothing is served from memory for longer than this.
MAX_AGE_SECONDS = 300.0
# How often a serving process reads the whole directory again (app/main.py), so that entries
# are renewed in bulk well before they age out, rather than one by one as requests find them.
RELOAD_SECONDS = 120.0

E = TypeVar("E")


class Memo(Generic[E]):
    """Entries by id, read on first use. A miss (None) is not kept: what does not exist yet
    may be created without anyone telling the cache. A load that began before an invalidation
    of its id is not kept either: it may have read what the invalidating commit replaced."""

    def __init__(self, load: Callable[[int], E | None], clock: Callable[[], float]) -> None:
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[int, tuple[float, E]] = {}
        self._generation = 0

    def get(self, entry_id: int, *, load: bool = True) -> E | None:
        """The kept entry, else (with `load`) the loaded one. Without `load`, None means
        "not in memory", for a caller that must not wait on the database (the event loop)."""
        found = self._entries.get(entry_id)
        if found is not None and self._clock() - found[0] < MAX_AGE_SECONDS:
            return found[1]
        if not load:
            return None
        generation = self._generation
        loaded_at = self._clock()
        entry = self._load(entry_id)
        if entry is not None:
            with self._lock:
                if generation == self._generation:
                    self._entries[entry_id] = (loaded_at, entry)
        return entry

    def fill(self, entries: Iterable[tuple[int, E]]) -> None:
        """Keep entries read in bulk (a process starting), unless an invalidation came
        meanwhile (the caller reads its generation before reading the entries)."""
        now = self._clock()
        with self._lock:
            for entry_id, entry in entries:
                self._entries[entry_id] = (now, entry)

    @property
    def generation(self) -> int:
        return self._generation

    def fill_if_unchanged(self, generation: int, entries: Iterable[tuple[int, E]]) -> bool:
        """`fill`, unless something was dropped since `generation` was read."""
        with self._lock:
            if generation != self._generation:
                return False
        self.fill(entries)
        return True

    def drop(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._generation += 1
            for entry_id in ids:
                self._entries.pop(entry_id, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

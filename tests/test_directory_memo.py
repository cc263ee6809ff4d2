"""The sign-in cache keeps no entry it read before a commit changed it."""

from app.directory.memo import MAX_AGE_SECONDS, Memo


class Rows:
    """A stand-in for the table: what a load reads, and how often it was read."""

    def __init__(self) -> None:
        self.value = "active"
        self.loads = 0
        self.during_load: list[object] = []

    def load(self, _id: int) -> str:
        self.loads += 1
        read = self.value
        for action in self.during_load:
            action()  # type: ignore[operator]
        self.during_load.clear()
        return read


def test_entries_are_read_once_then_served_from_memory() -> None:
    rows, now = Rows(), [0.0]
    entries = Memo(rows.load, lambda: now[0])
    assert [entries.get(1) for _ in range(3)] == ["active"] * 3
    assert rows.loads == 1
    now[0] += MAX_AGE_SECONDS + 1
    entries.get(1)
    assert rows.loads == 2


def test_a_dropped_entry_is_read_again() -> None:
    rows = Rows()
    entries = Memo(rows.load, lambda: 0.0)
    entries.get(1)
    rows.value = "disabled"
    entries.drop([1])
    assert entries.get(1) == "disabled"


def test_a_load_that_raced_a_change_is_not_kept() -> None:
    """The load read the old row; the change committed and dropped the id while the load was
    under way; the stale answer must not be remembered."""
    rows = Rows()
    entries = Memo(rows.load, lambda: 0.0)

    def change_commits() -> None:
        rows.value = "disabled"
        entries.drop([1])

    rows.during_load.append(change_commits)
    assert entries.get(1) == "active"  # this request raced the change
    assert entries.get(1) == "disabled"  # the next one is not served the stale entry


def test_a_miss_is_not_kept() -> None:
    """A device key whose row did not exist yet must work once the device is created."""
    found: dict[int, str] = {}
    entries = Memo(found.get, lambda: 0.0)
    assert entries.get(7) is None
    found[7] = "created"
    assert entries.get(7) == "created"

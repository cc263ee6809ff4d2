"""The fake BPJS's memory: who may call, the reference lists, the antrean it holds, every
call received, and the failure it is told to put on."""

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FailureMode = Literal["down", "slow", "garbled", "garbled_response", "error"]
Shape = Literal["list", "array"]

DEFAULT_POLI: list[dict[str, Any]] = [
    {"kodepoli": "001", "namapoli": "POLI UMUM"},
    {"kodepoli": "002", "namapoli": "POLI GIGI & MULUT"},
    {"kodepoli": "003", "namapoli": "POLI KIA"},
    {"kodepoli": "008", "namapoli": "POLI KB"},
]
DEFAULT_DOKTER: dict[str, list[dict[str, Any]]] = {
    "001": [
        {"namadokter": "dr. Ayu Lestari", "kodedokter": 101, "jampraktek": "08:00-12:00",
         "kapasitas": 40},
        {"namadokter": "dr. Rudi Hartono", "kodedokter": 102, "jampraktek": "13:00-16:00",
         "kapasitas": 25},
    ],
    "002": [
        {"namadokter": "drg. Budi Santoso", "kodedokter": 201, "jampraktek": "08:00-12:00",
         "kapasitas": 20},
    ],
    "003": [
        {"namadokter": "dr. Citra Dewi", "kodedokter": 301, "jampraktek": "08:00-12:00",
         "kapasitas": 30},
    ],
    "008": [
        {"namadokter": "dr. Sari Wulandari", "kodedokter": 801, "jampraktek": "08:00-11:00",
         "kapasitas": 15},
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Consumer:
    """A consumer's credentials as BPJS issued them."""

    cons_id: str
    cons_secret: str
    user_key: str


@dataclass
class ReceivedCall:
    """One call as the fake received it, and what it answered."""

    method: str
    path: str
    cons_id: str | None
    timestamp: str | None
    body: Any  # the JSON sent; the text when it was not JSON; None when empty
    at: float
    http_status: int = 200
    code: int | None = None  # metadata code answered; None for an answer without one
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Antrean:
    """A place in a poli's queue that BPJS knows about."""

    nomorkartu: str
    nik: str
    kodepoli: str
    tanggalperiksa: str
    nomorantrean: str = ""
    # terdaftar (added or booked), hadir or tidak_hadir (panggil), batal
    status: str = "terdaftar"
    body: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Failure:
    """What the fake does instead of answering properly, for the next `count` calls (None:
    until told otherwise)."""

    mode: FailureMode
    seconds: float = 0.0  # slow: how long before it answers
    code: int = 201  # error: the metadata code and message it answers with
    message: str = "Gagal"
    count: int | None = None


def antrean_key(nomorkartu: str, nik: str, kodepoli: str, tanggalperiksa: str) -> tuple[str, ...]:
    # A patient without BPJS is added with an empty card: their NIK tells them apart.
    who = nomorkartu or f"nik:{nik}"
    return (who, kodepoli, tanggalperiksa)


class FakeState:
    """Shared between the test's thread and the server's loop: every access holds the lock."""

    def __init__(
        self,
        consumers: Iterable[Consumer],
        *,
        poli: list[dict[str, Any]] | None = None,
        dokter: dict[str, list[dict[str, Any]]] | None = None,
        shape: Shape = "list",
        clock: Callable[[], float] = time.time,
        max_skew_seconds: float = 300.0,
        strict: bool = False,
        metadata_key: str = "metadata",
    ) -> None:
        self.lock = threading.Lock()
        self.consumers = {consumer.cons_id: consumer for consumer in consumers}
        self.poli = list(DEFAULT_POLI if poli is None else poli)
        self.dokter = dict(DEFAULT_DOKTER if dokter is None else dokter)
        self.shape: Shape = shape
        self.clock = clock
        self.max_skew_seconds = max_skew_seconds
        # strict: panggil and batal of an antrean BPJS does not hold are refused. Off by
        # default: the real BPJS also holds the Mobile JKN bookings, which the fake never saw.
        self.strict = strict
        self.metadata_key = metadata_key
        self._calls: list[ReceivedCall] = []
        self.antrean: dict[tuple[str, ...], Antrean] = {}
        self.failure: Failure | None = None

    # In-process control, also behind the /_fake/ control paths.

    @property
    def calls(self) -> list[ReceivedCall]:
        """Every call received, in order (a copy)."""
        with self.lock:
            return list(self._calls)

    def record(self, call: ReceivedCall) -> None:
        with self.lock:
            self._calls.append(call)

    def clear_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    def fail(
        self,
        mode: FailureMode,
        *,
        seconds: float = 0.0,
        code: int = 201,
        message: str = "Gagal",
        count: int | None = None,
    ) -> None:
        """Put on a failure: down (503), slow, garbled (not JSON), garbled_response (an
        encrypted part that does not open), error (BPJS's refusal with code and message)."""
        with self.lock:
            self.failure = Failure(mode, seconds, code, message, count)

    def recover(self) -> None:
        """Answer properly again."""
        with self.lock:
            self.failure = None

    def take_failure(self) -> Failure | None:
        """The failure this call gets, counting it down."""
        with self.lock:
            failure = self.failure
            if failure is None:
                return None
            if failure.count is not None:
                failure.count -= 1
                if failure.count <= 0:
                    self.failure = None
            return failure

    def set_reference(
        self,
        *,
        poli: list[dict[str, Any]] | None = None,
        dokter: dict[str, list[dict[str, Any]]] | None = None,
        shape: Shape | None = None,
    ) -> None:
        """Replace the reference lists, or the shape they are answered in."""
        with self.lock:
            if poli is not None:
                self.poli = list(poli)
            if dokter is not None:
                self.dokter = dict(dokter)
            if shape is not None:
                self.shape = shape

    def add_booking(
        self, *, nomorkartu: str, kodepoli: str, tanggalperiksa: str, nik: str = ""
    ) -> None:
        """An antrean BPJS holds without the clinic having added it (a Mobile JKN booking)."""
        key = antrean_key(nomorkartu, nik, kodepoli, tanggalperiksa)
        with self.lock:
            self.antrean[key] = Antrean(nomorkartu, nik, kodepoli, tanggalperiksa)

    def antrean_list(self) -> list[Antrean]:
        with self.lock:
            return list(self.antrean.values())

    def reset(self) -> None:
        """Forget calls, antrean and failure (the reference lists stay)."""
        with self.lock:
            self._calls.clear()
            self.antrean.clear()
            self.failure = None

"""Waiting-room displays for a sample of clinics: each keeps its socket and notes, for every
`ticket.called` frame, how long after the call it arrived (the frame's `at` is stamped when the
call is recorded, on the same machine's clock)."""

import asyncio
import json
import time
from datetime import datetime

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException


class Displays:
    def __init__(self, ws_base: str, clinic_ids: list[int]) -> None:
        self.ws_base = ws_base
        self.clinic_ids = clinic_ids
        self.call_to_frame: list[float] = []
        self.frames = 0
        self.gaps = 0  # a frame whose seq skipped one: the display would have resynced
        self.connected = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        ready = [asyncio.Event() for _ in self.clinic_ids]
        self._tasks = [
            asyncio.create_task(self._watch(clinic_id, event))
            for clinic_id, event in zip(self.clinic_ids, ready, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), timeout=120)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch(self, clinic_id: int, ready: asyncio.Event) -> None:
        try:
            async with connect(
                f"{self.ws_base}/ws/clinics/{clinic_id}", compression=None, max_size=None
            ) as socket:
                seq = json.loads(await socket.recv())["seq"]
                self.connected += 1
                ready.set()
                async for raw in socket:
                    message = json.loads(raw)
                    if "seq" not in message:
                        continue  # a ping
                    if message["seq"] != seq + 1:
                        self.gaps += 1
                    seq = message["seq"]
                    self.frames += 1
                    if message["type"] == "ticket.called":
                        at = datetime.fromisoformat(message["at"]).timestamp()
                        self.call_to_frame.append(time.time() - at)
        except (OSError, WebSocketException):
            ready.set()  # counted as not connected

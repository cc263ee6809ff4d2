"""The fake BPJS as an ASGI app: the protocol's paths, and its control paths under /_fake/.

The control paths take no credentials: the fake listens on 127.0.0.1 for tests and trials.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, get_args

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.bpjs.crypto import encrypt_response
from app.bpjs.fake import protocol
from app.bpjs.fake.protocol import Answer
from app.bpjs.fake.state import FailureMode, FakeState, ReceivedCall, Shape

Handler = Callable[[FakeState, Request, Any], Answer]


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _envelope(state: FakeState, code: int, message: str, response: Any = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {state.metadata_key: {"code": code, "message": message}}
    if response is not None:
        envelope["response"] = response
    return envelope


def protocol_route(path: str, method: str, handler: Handler) -> Route:
    """A BPJS path: record the call, put on the failure, check the signature, answer."""

    async def endpoint(request: Request) -> Response:
        state: FakeState = request.app.state.fake
        raw = await request.body()
        call = ReceivedCall(
            method=request.method,
            path=request.url.path,
            cons_id=request.headers.get("x-cons-id"),
            timestamp=request.headers.get("x-timestamp"),
            body=_body(raw),
            at=time.time(),
        )
        state.record(call)
        response = await _answer(state, request, call, handler)
        call.http_status = response.status_code
        return response

    return Route(path, endpoint, methods=[method])


async def _answer(
    state: FakeState, request: Request, call: ReceivedCall, handler: Handler
) -> Response:
    failure = state.take_failure()
    if failure is not None and failure.mode == "down":
        call.message = "down"
        return Response("<html><body>503 Service Unavailable</body></html>", 503)
    if failure is not None and failure.mode == "slow":
        await _slow(request, failure.seconds)
    if failure is not None and failure.mode == "garbled":
        call.message = "garbled"
        return Response('{"metadata": {"code": 200, "mess', 200, media_type="application/json")
    consumer = protocol.authenticate(state, request.headers)
    if isinstance(consumer, str):
        call.code, call.message = 401, consumer
        return JSONResponse(_envelope(state, 401, consumer))
    if failure is not None and failure.mode == "error":
        call.code, call.message = failure.code, failure.message
        return JSONResponse(_envelope(state, failure.code, failure.message))
    if request.method == "POST" and not isinstance(call.body, dict):
        answer = protocol.refuse("Format request tidak sesuai")
    else:
        answer = handler(state, request, call.body)
    call.code, call.message = answer.code, answer.message
    sealed = None
    if answer.response is not None:
        secret = consumer.cons_secret
        if failure is not None and failure.mode == "garbled_response":
            secret = "not-the-secret"  # sealed with a key the client cannot have
        sealed = encrypt_response(
            answer.response,
            cons_id=consumer.cons_id,
            cons_secret=secret,
            timestamp=request.headers["x-timestamp"],
        )
    return JSONResponse(_envelope(state, answer.code, answer.message, sealed))


async def _slow(request: Request, seconds: float) -> None:
    """Wait, then go on as a slow BPJS does: the call is taken even when the client gave up
    waiting. A client that hung up ends the wait (nobody is left to answer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _ref_poli(state: FakeState, request: Request, _body: Any) -> Answer:
    return protocol.ref_poli(state, request.path_params["tanggal"])


def _ref_dokter(state: FakeState, request: Request, _body: Any) -> Answer:
    params = request.path_params
    return protocol.ref_dokter(state, params["kodepoli"], params["tanggal"])


def _add(state: FakeState, _request: Request, body: Any) -> Answer:
    return protocol.add(state, body)


def _panggil(state: FakeState, _request: Request, body: Any) -> Answer:
    return protocol.panggil(state, body)


def _batal(state: FakeState, _request: Request, body: Any) -> Answer:
    return protocol.batal(state, body)


# Control paths.


def _control(
    work: Callable[[FakeState, Any], Any],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body = _body(await request.body())
        try:
            result = work(request.app.state.fake, body)
        except (TypeError, ValueError, KeyError) as exc:
            return JSONResponse({"detail": f"bad control request: {exc}"}, 400)
        return JSONResponse(result if result is not None else {"ok": True})

    return endpoint


def _calls(state: FakeState, _body: Any) -> Any:
    return {"calls": [call.as_json() for call in state.calls]}


def _antrean(state: FakeState, _body: Any) -> Any:
    return {"antrean": [antrean.as_json() for antrean in state.antrean_list()]}


def _fail(state: FakeState, body: Any) -> None:
    if not isinstance(body, dict) or body.get("mode") not in get_args(FailureMode):
        raise ValueError(f"mode is one of {get_args(FailureMode)}")
    count = body.get("count")
    state.fail(
        body["mode"],
        seconds=float(body.get("seconds", 0)),
        code=int(body.get("code", 201)),
        message=str(body.get("message", "Gagal")),
        count=None if count is None else int(count),
    )


def _reference(state: FakeState, body: Any) -> None:
    if not isinstance(body, dict):
        raise ValueError("a JSON object with poli, dokter and/or shape")
    shape = body.get("shape")
    if shape is not None and shape not in get_args(Shape):
        raise ValueError(f"shape is one of {get_args(Shape)}")
    state.set_reference(poli=body.get("poli"), dokter=body.get("dokter"), shape=shape)


def _booking(state: FakeState, body: Any) -> None:
    if not isinstance(body, dict):
        raise ValueError("a JSON object with nomorkartu, kodepoli, tanggalperiksa")
    state.add_booking(
        nomorkartu=str(body["nomorkartu"]),
        kodepoli=str(body["kodepoli"]),
        tanggalperiksa=str(body["tanggalperiksa"]),
    )


def create_fake_app(state: FakeState) -> Starlette:
    routes = [
        protocol_route("/ref/poli/tanggal/{tanggal}", "GET", _ref_poli),
        protocol_route("/ref/dokter/kodepoli/{kodepoli}/tanggal/{tanggal}", "GET", _ref_dokter),
        protocol_route("/antrean/add", "POST", _add),
        protocol_route("/antrean/panggil", "POST", _panggil),
        protocol_route("/antrean/batal", "POST", _batal),
        Route("/_fake/calls", _control(_calls), methods=["GET"]),
        Route("/_fake/calls", _control(lambda s, _b: s.clear_calls()), methods=["DELETE"]),
        Route("/_fake/antrean", _control(_antrean), methods=["GET"]),
        Route("/_fake/booking", _control(_booking), methods=["POST"]),
        Route("/_fake/failure", _control(_fail), methods=["PUT"]),
        Route("/_fake/failure", _control(lambda s, _b: s.recover()), methods=["DELETE"]),
        Route("/_fake/reference", _control(_reference), methods=["PUT"]),
        Route("/_fake/reset", _control(lambda s, _b: s.reset()), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.fake = state
    return app

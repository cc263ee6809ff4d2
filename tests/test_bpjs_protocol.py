"""The BPJS Antrean FKTP protocol's pieces: the signature, the headers, the answer's
encryption. The vectors come from outside this code: BPJS's published HMAC example, OpenSSL,
and the JavaScript lz-string 1.5.0 (BPJS's format) run on the texts below."""

import base64
import json

import pytest

from app.bpjs.crypto import (
    DecryptError,
    decrypt_response,
    encrypt_response,
    lz_compress,
    lz_decompress,
    response_key,
)
from app.bpjs.outcome import Delivered, Rejected, Transient, read_envelope
from app.bpjs.signature import (
    hmac_sha256_base64,
    signature,
    signature_matches,
    signed_headers,
    timestamp_now,
)

# BPJS's catalog example: consumer 1234, secret "pwd", timestamp 433223232.
CONS = {"cons_id": "1234", "cons_secret": "pwd", "timestamp": "433223232"}
POLI = {
    "list": [
        {"namapoli": "POLI UMUM", "kodepoli": "001"},
        {"namapoli": "POLI GIGI & MULUT", "kodepoli": "002"},
    ]
}
# POLI as BPJS sends it for CONS: lz-string (JavaScript) then `openssl enc -aes-256-cbc` with
# K = SHA-256("1234pwd433223232") and IV = its first 16 bytes, base64.
POLI_SEALED = (
    "BrIc3POWIpoZX21f0INPcWp4IpdLZkyW1furZ33jIfH3BBWXFGpb4RnRCe9yidRifE29F3/vu+H/HaiGxdcPNsh6"
    "/72WjV0YrFNzlPW0iXUeKvd1EoxE9EkHPVPShcFN1LpQKh+tizd8vISNziPyb55Mb9POhCZ70YdDZIzRA88="
)
# compressToEncodedURIComponent of the JavaScript original.
LZ_VECTORS = [
    ("", "Q"),
    (
        '{"list":[{"namapoli":"POLI UMUM","kodepoli":"001"}]}',
        "N4IgNglgzgLiBcBtUA7AhgWzQBwPaQRAAUB5AGQEkACAVQFl6QAaEAa1wBMBTPA+EAAwCAjCAC+AXTFA",
    ),
    (
        "Puskesmas Ngaglik — antrean é 😀 ok",
        "AoVwzg1gpmC2CGYAEA5A5vNAbAlhJgKARLwB2ALgE5SlICXSgvBuAAe0gPYRA",
    ),
]


def test_signature_matches_bpjs_published_vector() -> None:
    assert hmac_sha256_base64("aaa", "bbb") == "20BKS3PWnD3XU4JbSSZvVlGi2WWnDa8Sv9uHJ+wsELA="


def test_signature_signs_cons_id_and_timestamp_with_the_secret() -> None:
    # `printf '1234&433223232' | openssl dgst -sha256 -hmac pwd -binary | base64`
    expected = "eXMtvX2r7e7CLCIu3kpEpCrvciZgK8FuOhKv06NDAHk="
    assert signature("1234", "pwd", "433223232") == expected
    assert signature_matches("1234", "pwd", "433223232", expected)
    assert not signature_matches("1234", "pwd", "433223233", expected)
    assert not signature_matches("1234", "pwd", "433223232", "é" + expected)


def test_headers_carry_consumer_timestamp_signature_and_user_key() -> None:
    timestamp = timestamp_now(lambda: 1_765_000_000.9)
    assert timestamp == "1765000000"  # whole seconds, truncated
    headers = signed_headers("1234", "pwd", "the-user-key", timestamp)
    assert headers == {
        "x-cons-id": "1234",
        "x-timestamp": "1765000000",
        "x-signature": signature("1234", "pwd", "1765000000"),
        "user_key": "the-user-key",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    assert "pwd" not in headers.values()


def test_response_key_is_sha256_of_cons_id_secret_and_timestamp() -> None:
    assert response_key(**CONS).hex() == (
        "f75bf2014da65c8f1c39a47de848ba383d051f4e218fa70774fcd3fb216c5f9b"
    )


def test_decrypts_an_answer_sealed_by_openssl_and_javascript_lz_string() -> None:
    assert decrypt_response(POLI_SEALED, **CONS) == POLI


def test_encrypts_exactly_as_bpjs_does() -> None:
    assert encrypt_response(POLI, **CONS) == POLI_SEALED


@pytest.mark.parametrize(("text", "compressed"), LZ_VECTORS)
def test_lz_string_matches_the_javascript_original(text: str, compressed: str) -> None:
    assert lz_compress(text) == compressed
    assert lz_decompress(compressed) == text


@pytest.mark.parametrize(
    "value",
    [
        {"list": []},
        [{"namadokter": "drg. Kusumawati Sukadi, Sp.BM", "kodedokter": 700, "kapasitas": 100}],
        {"keterangan": "Pasien 👩‍⚕️ datang pukul 08.00, poli Klaster 2 (Ibu & Anak)"},
        "x" * 5000,
        None,
    ],
)
def test_round_trip(value: object) -> None:
    sealed = encrypt_response(value, **CONS)
    base64.b64decode(sealed, validate=True)
    assert decrypt_response(sealed, **CONS) == value


@pytest.mark.parametrize(
    "wrong",
    [
        {**CONS, "cons_secret": "pwd2"},
        {**CONS, "timestamp": "433223233"},
        {**CONS, "cons_id": "1235"},
    ],
)
def test_wrong_key_is_a_clear_error(wrong: dict[str, str]) -> None:
    with pytest.raises(DecryptError, match="key|LZ-string|JSON"):
        decrypt_response(POLI_SEALED, **wrong)


@pytest.mark.parametrize(
    "sealed",
    ["", "not base64 at all!", base64.b64encode(b"short").decode(), "QUJD" * 3],
)
def test_not_an_encrypted_answer_is_a_clear_error(sealed: str) -> None:
    with pytest.raises(DecryptError):
        decrypt_response(sealed, **CONS)


@pytest.mark.parametrize("text", ["@@@@", "é", "N4Ig!!"])
def test_not_lz_string_is_a_clear_error(text: str) -> None:
    with pytest.raises(DecryptError):
        lz_decompress(text)


def _open(sealed: str) -> object:
    return decrypt_response(sealed, **CONS)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _env(code: object, message: str = "Ok", key: str = "metadata", **more: object) -> bytes:
    return _json({key: {"code": code, "message": message}, **more})


NO_ENVELOPE = Transient("garbled", "HTTP 200: no BPJS envelope")


@pytest.mark.parametrize(
    ("status", "body", "reads", "expected"),
    [
        # code as text, PCare's metaData spelling, the catalog's code 1 for "OK" lists
        (200, _env("200", "OK"), False, Delivered(None, 200, "OK")),
        (200, _env(201, "Gagal", "metaData"), False, Rejected(201, "Gagal")),
        (200, _env(1, "OK", response=POLI_SEALED), True, Delivered(POLI, 1, "OK")),
        (200, _env(401, "Unauthorized"), False, Rejected(401, "Unauthorized", kind="auth")),
        (401, b"", False, Rejected(401, "HTTP 401", kind="auth")),
        (302, b"", False, Rejected(302, "HTTP 302", kind="http")),
        (404, b"<html>Not Found</html>", False, Rejected(404, "HTTP 404", kind="http")),
        (400, _env(201, "NIK harus 16 digit"), False, Rejected(201, "NIK harus 16 digit")),
        (502, _env(200), False, Transient("server", "HTTP 502")),
        (429, b"", False, Transient("server", "HTTP 429")),
        (200, b"<html>maintenance</html>", False, NO_ENVELOPE),
        (200, _env(True), False, NO_ENVELOPE),
        (200, _json([{"metadata": {"code": 200}}]), False, NO_ENVELOPE),
        # A write is delivered on its metadata; a read needs the response to open.
        (200, _env(200, response="Ok"), False, Delivered("Ok", 200, "Ok")),
        (200, _env(200, response="Ok"), True, Transient("garbled", "response is not base64")),
    ],
)
def test_answers_are_read_into_outcomes(
    status: int, body: bytes, reads: bool, expected: object
) -> None:
    assert read_envelope(status, body, _open, reads=reads) == expected


def test_already_registered_is_delivered_only_for_tambah_antrean() -> None:
    body = _json({"metadata": {"code": 201, "message": "Peserta sudah terdaftar di poli ..."}})
    assert read_envelope(200, body, _open, add=True) == Delivered(
        None, 201, "Peserta sudah terdaftar di poli ...", duplicate=True
    )
    assert read_envelope(200, body, _open) == Rejected(201, "Peserta sudah terdaftar di poli ...")

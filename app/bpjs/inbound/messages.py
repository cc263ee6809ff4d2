"""BPJS's envelope and the Indonesian messages Mobile JKN shows its user."""

from typing import Any

from fastapi.responses import JSONResponse

OK = 200
FAILED = 201
NEW_PATIENT = 202
TOO_MANY = 429

# The token.
CREDENTIALS_MISSING = "Username dan Password Harus Diisi"
WRONG_CREDENTIALS = "Username atau Password Tidak Sesuai"
TOKEN_MISSING = "Username dan Token Harus Diisi"
TOKEN_EXPIRED = "Token Expired"
TOKEN_INVALID = "Token Tidak Valid"
# The request.
BAD_REQUEST = "Format Request Tidak Sesuai"
CARD_MISSING = "Nomor Kartu Tidak Boleh Kosong"
CARD_FORMAT = "Nomor kartu harus 13 digit"
NIK_MISSING = "NIK Tidak Boleh Kosong"
NIK_FORMAT = "NIK harus 16 digit"
POLI_MISSING = "Kode Poli Tidak Boleh Kosong"
DATE_MISSING = "Tanggal Periksa Tidak Boleh Kosong"
DATE_FORMAT = "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"
DATE_PAST = "Tanggal Periksa Tidak Berlaku Mundur"
DATE_TOO_FAR = "Pendaftaran Hanya Dapat Dilakukan untuk Hari Ini atau Besok"
# The queue.
POLI_NOT_FOUND = "Poli Tidak Ditemukan"
POLI_CLOSED = "Pendaftaran ke Poli Ini Sedang Tutup"
QUOTA_FULL = "Kuota Antrean Poli Ini Sudah Habis"
ONCE_ONLY = "Nomor Antrean Hanya Dapat Diambil 1 Kali Pada Tanggal dan Poli Yang Sama"
NOT_FOUND = "Antrean Tidak Ditemukan"
ALREADY_CANCELLED = "Antrean Tidak Ditemukan atau Sudah Dibatalkan"
ALREADY_SERVED = "Pasien Sudah Dilayani, Antrean Tidak Dapat Dibatalkan"
CANNOT_CANCEL = "Antrean Tidak Dapat Dibatalkan"
NEW_PATIENT_MESSAGE = "Pasien Baru"
TOO_MANY_MESSAGE = "Terlalu Banyak Permintaan, Silakan Coba Lagi"
# What a booked patient reads in Mobile JKN.
BOOKED_NOTE = (
    "Silakan datang sebelum antrean Anda dipanggil dan tunjukkan kartu BPJS di loket. "
    "Apabila antrean terlewat, silakan lapor ke petugas loket"
)


class Refusal(Exception):
    """A request refused with BPJS's code and the reason in Indonesian."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def envelope(
    response: Any = None,
    *,
    message: str = "Ok",
    code: int = OK,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """BPJS's envelope (its key is `metadata`, in lower case); `response` only when there is
    one."""
    body: dict[str, Any] = {}
    if response is not None:
        body["response"] = response
    body["metadata"] = {"message": message, "code": code}
    return JSONResponse(body, status_code=status_code, headers=headers)


def refused(refusal: Refusal) -> JSONResponse:
    return envelope(message=refusal.message, code=refusal.code)

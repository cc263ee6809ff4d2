"""Mobile JKN as the tests play it: a clinic's bridge set up through the admin API, then
BPJS's calls with its own headers and field names."""

from dataclasses import dataclass, field
from typing import Any

from httpx2 import Response

from tests.world import Json, World

BPJS_USERNAME = "mjkn.klandasan"
BPJS_PASSWORD = "rahasia-bpjs-2026"
CARD = "0001234567890"
NIK = "6471012301900001"
OTHER_CARD = "0009876543210"
TODAY = "2026-11-23"  # the tests' clock: Monday 23 November 2026, 08:00 WITA
TOMORROW = "2026-11-24"


def bridge_on(world: World, **fields: Any) -> Json:
    """Turn the world's bridge on: the account BPJS signs in with, consumer credentials, and
    poli codes on the entry services (Pendaftaran 001, Poli Gigi 002)."""
    body = {
        "enabled": True,
        "base_url": "https://bpjs.example.invalid/antreanfktp_dev",
        "cons_id": "12345",
        "cons_secret": "s3cr3t-cons",
        "user_key": "user-key-abc",
        "username": BPJS_USERNAME,
        "password": BPJS_PASSWORD,
        **fields,
    }
    response = world.client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs", headers=world.clinic_admin, json=body
    )
    assert response.status_code == 200, response.text
    for prefix, code in (("A", "001"), ("C", "002"), ("B", "003")):
        patched = world.client.patch(
            f"/api/v1/services/{world.services[prefix]['id']}",
            headers=world.clinic_admin,
            json={"bpjs_poli_code": code},
        )
        assert patched.status_code == 200, patched.text
    settings: Json = response.json()
    return settings


@dataclass
class MobileJkn:
    world: World
    code: str = "KLANDASAN"
    username: str = BPJS_USERNAME
    token: str = field(default="")

    @property
    def base(self) -> str:
        return f"/bpjs/fktp/{self.code}"

    def auth(self, username: str | None = None, password: str = BPJS_PASSWORD) -> Response:
        headers = {"x-username": username or self.username, "x-password": password}
        return self.world.client.get(f"{self.base}/auth", headers=headers)

    def sign_in(self) -> "MobileJkn":
        answer = self.auth()
        assert answer.json()["metadata"] == {"message": "Ok", "code": 200}, answer.text
        self.token = answer.json()["response"]["token"]
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"x-token": self.token, "x-username": self.username}

    def book(self, **fields: Any) -> Response:
        body = {
            "nomorkartu": CARD,
            "nik": NIK,
            "kodepoli": "001",
            "tanggalperiksa": TODAY,
            "keluhan": "demam",
            "kodedokter": 123456,
            "jampraktek": "08:00-12:00",
            "norm": "RM-000123",
            "nohp": "081234567890",
            **fields,
        }
        return self.world.client.post(f"{self.base}/antrean", headers=self.headers, json=body)

    def status(self, kodepoli: str = "001", day: str = TODAY) -> Response:
        return self.world.client.get(
            f"{self.base}/antrean/status/{kodepoli}/{day}", headers=self.headers
        )

    def remaining(self, card: str = CARD, kodepoli: str = "001", day: str = TODAY) -> Response:
        return self.world.client.get(
            f"{self.base}/antrean/sisapeserta/{card}/{kodepoli}/{day}", headers=self.headers
        )

    def cancel(self, **fields: Any) -> Response:
        body = {
            "nomorkartu": CARD,
            "kodepoli": "001",
            "tanggalperiksa": TODAY,
            "keterangan": "peserta batal hadir",
            **fields,
        }
        return self.world.client.put(f"{self.base}/antrean/batal", headers=self.headers, json=body)

    def new_patient(self, **fields: Any) -> Response:
        body = {
            "nomorkartu": CARD,
            "nik": NIK,
            "nomorkk": "6471012301900000",
            "nama": "Sumarsono",
            "jeniskelamin": "L",
            "tanggallahir": "1985-03-01",
            "alamat": "Jl. Jend. Sudirman No. 1",
            "kodeprop": "64",
            "namaprop": "Kalimantan Timur",
            "kodedati2": "6471",
            "namadati2": "Kota Balikpapan",
            "kodekec": "647101",
            "namakec": "Balikpapan Selatan",
            "kodekel": "6471011001",
            "namakel": "Klandasan Ilir",
            "rw": "001",
            "rt": "013",
            **fields,
        }
        return self.world.client.post(f"{self.base}/peserta", headers=self.headers, json=body)


def outcome(response: Response) -> tuple[int, str]:
    """(metadata.code, metadata.message), once the HTTP status is checked to be 200."""
    assert response.status_code == 200, response.text
    metadata = response.json()["metadata"]
    return metadata["code"], metadata["message"]

import json
from fastapi.testclient import TestClient
from tests.world import World


def test_probe(world: World) -> None:
    c = TestClient(world.client.app, raise_server_exceptions=False)
    cid = world.clinic_id
    t = world.take("A")
    tid = t["id"]
    H = {**world.admin, "content-type": "application/json"}
    def show(label, r):
        print(label, r.status_code, r.text[:160])
    show("dk-sup2", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": b"Bearer dk_\xb2_x"}))
    show("dk-big", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": b"Bearer dk_2147483648_x"}))
    show("dk-maxid", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": b"Bearer dk_2147483647_x"}))
    show("idem-200", c.post(f"/api/v1/clinics/{cid}/tickets", headers={**world.kiosk, "Idempotency-Key": "k" * 200}, json={"service_id": world.services["A"]["id"]}))
    show("idem-201", c.post(f"/api/v1/clinics/{cid}/tickets", headers={**world.kiosk, "Idempotency-Key": "k" * 201}, json={"service_id": world.services["A"]["id"]}))
    show("cnt-dup-ids", c.post(f"/api/v1/clinics/{cid}/counters", headers=H, json={"name": "dup", "service_ids": [1, 1]}))
    show("user-int", c.post("/api/v1/users", headers=H, json={"username": 12345, "password": "password1", "role": "staff", "clinic_id": cid}))
    show("clinic-int", c.post("/api/v1/clinics", headers=H, json={"code": 12345, "name": "x"}))
    show("tz-lower", c.post("/api/v1/clinics", headers=H, json={"code": "TZL", "name": "x", "timezone": "asia/makassar"}))
    show("svc-float", c.post(f"/api/v1/clinics/{cid}/services", headers=H, json={"name": "x", "prefix": "QQ", "daily_quota": 1.5}))
    show("svc-umlaut", c.post(f"/api/v1/clinics/{cid}/services", headers=H, json={"name": "x", "prefix": "Ä"}))
    show("svc-lower-dup", c.post(f"/api/v1/clinics/{cid}/services", headers=H, json={"name": "x", "prefix": "a"}))
    show("svc-pad", c.post(f"/api/v1/clinics/{cid}/services", headers=H, json={"name": "x", "prefix": " "}))

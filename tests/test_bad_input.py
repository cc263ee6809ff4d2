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
    show("tok-surr", c.get(f"/api/v1/tickets/{tid}?token=%ED%A0%80"))
    show("tok-nul", c.get(f"/api/v1/tickets/{tid}?token=%00"))
    show("tok-hdr", c.get(f"/api/v1/tickets/{tid}", headers={"X-Ticket-Token": b"\xff\x00"}))
    show("path-nul", c.get("/api/v1/clinics/%00"))
    show("path-long", c.get("/api/v1/clinics/" + "9" * 5000))
    show("path-1.0", c.get("/api/v1/clinics/1.0"))
    show("path-sp", c.get("/api/v1/clinics/%201"))
    show("path-plus", c.get("/api/v1/clinics/+1"))
    show("path-uni", c.get("/api/v1/clinics/%D9%A1"))  # arabic-indic 1
    show("body-bigint", c.post("/api/v1/clinics", headers=H, content=b'{"code":"Q","name":"x","allow_remote_tickets":' + b"9" * 5000 + b"}"))
    show("body-deep", c.post("/api/v1/clinics", headers=H, content=b"[" * 100000 + b"]" * 100000))
    show("body-deep2", c.post("/api/v1/clinics", headers=H, content=b'{"code":' + b"[" * 5000 + b"]" * 5000 + b',"name":"x"}'))
    show("body-inf", c.post(f"/api/v1/clinics/{cid}/services", headers=H, content=b'{"name":"x","prefix":"QQ","target_wait_minutes":Infinity}'))
    show("body-1e400", c.post(f"/api/v1/clinics/{cid}/services", headers=H, content=b'{"name":"x","prefix":"QQ","target_wait_minutes":1e400}'))
    show("body-bad-utf8", c.post("/api/v1/clinics", headers=H, content=b'{"code":"\xff\xfe","name":"x"}'))
    show("body-bom", c.post("/api/v1/clinics", headers=H, content=b'\xef\xbb\xbf{"code":"BOM","name":"x"}'))
    show("body-textplain", c.post("/api/v1/clinics", headers={**world.admin, "content-type": "text/plain"}, content=b'{"code":"TP","name":"x"}'))
    show("body-form", c.post("/api/v1/clinics", headers=world.admin, data={"code": "F", "name": "x"}))
    show("body-none", c.post("/api/v1/clinics", headers=world.admin))
    show("body-null", c.post("/api/v1/clinics", headers=H, content=b"null"))
    show("body-list", c.post("/api/v1/clinics", headers=H, content=b"[]"))
    show("body-str", c.post("/api/v1/clinics", headers=H, content=b'"x"'))
    show("body-garbage", c.post("/api/v1/clinics", headers=H, content=b"{not json"))
    show("patch-none", c.patch(f"/api/v1/services/{world.services['A']['id']}", headers=world.admin))
    show("patch-empty", c.patch(f"/api/v1/services/{world.services['A']['id']}", headers=world.admin, json={}))
    show("transfer-nobody", c.post(f"/api/v1/tickets/{tid}/transfer", headers=world.staff))
    show("cancel-body", c.post(f"/api/v1/tickets/{tid}/start", headers=world.staff, content=b"{not json", ))
    show("idem-nonascii", c.post(f"/api/v1/clinics/{cid}/tickets", headers={**world.kiosk, "Idempotency-Key": "ü".encode("latin-1")}, json={"service_id": world.services["A"]["id"]}))
    show("idem-empty", c.post(f"/api/v1/clinics/{cid}/tickets", headers={**world.kiosk, "Idempotency-Key": ""}, json={"service_id": world.services["A"]["id"]}))
    show("auth-garbage", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": "Bearer dk_99999999999999999999_x"}))
    show("auth-garbage2", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": "Bearer dk_0_x"}))
    show("auth-garbage3", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": "Bearer dk_9999999999_x"}))
    show("auth-garbage4", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": "Bearer abc.def.ghi"}))
    show("auth-garbage5", c.get(f"/api/v1/tickets/{tid}", headers={"Authorization": "Bearer dk_١_x".encode()}))
    show("login-nul", c.post("/api/v1/auth/token", data={"username": "a\x00", "password": "b\x00"}))
    show("login-long", c.post("/api/v1/auth/token", data={"username": "a" * 100000, "password": "b" * 100000}))
    show("login-surr", c.post("/api/v1/auth/token", content=b"username=%ED%A0%80&password=%ED%A0%80", headers={"content-type": "application/x-www-form-urlencoded"}))
    show("user-dup", c.post("/api/v1/users", headers=H, json={"username": "Admin", "password": "password1", "role": "admin"}))
    show("user-cid-big", c.post("/api/v1/users", headers=H, json={"username": "zzz", "password": "password1", "role": "staff", "clinic_id": 999}))
    show("quota-bool", c.patch(f"/api/v1/services/{world.services['A']['id']}", headers=world.admin, json={"entry": "yes"}))

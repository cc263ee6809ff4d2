"""The waiting-room TV (/display/{clinic_id}) and its voice, in Chromium against a real server.

The test browser runs with --autoplay-policy=no-user-gesture-required, like a set-up TV, and has
no Indonesian speech voice, so the recorded clips speak (`?voice=clips` makes that explicit).
"""

import importlib.util
import json
import re
import uuid
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import httpx2 as httpx
from playwright.sync_api import expect

from tests.browser import City, screenshot
from tests.server import ROOT

TV = {"width": 1280, "height": 720}
VOICE_DIR = ROOT / "app" / "web" / "static" / "voice"
A012_AT_LOKET_2 = ["chime", "nomor_antrean", "a", "dua", "belas", "silakan_menuju", "loket", "dua"]

Json = dict[str, Any]


# ---------------------------------------------------------------- helpers


def issue(city: City, prefix: str) -> Json:
    """A ticket from the kiosk (its device key, and an idempotency key as the kiosk sends)."""
    response = httpx.post(
        f"{city.url}/api/v1/clinics/{city.clinic['id']}/tickets",
        json={"service_id": city.services[prefix]["id"]},
        headers={
            "Authorization": f"Bearer {city.kiosk_key}",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        timeout=10,
    )
    response.raise_for_status()
    ticket: Json = response.json()
    return ticket


def call_next(city: City, token: str, counter: str) -> Json:
    ticket: Json = city.api(
        "POST", f"/counters/{city.counters[counter]['id']}/call-next", token=token
    )
    return ticket


@contextmanager
def display(browser: Any, init_script: str | None = None) -> Iterator[Any]:
    """A fresh TV browser (a context of its own) at 1280x720."""
    context = browser.new_context(viewport=TV)
    try:
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        yield page
    finally:
        context.close()


def open_display(page: Any, city: City, query: str = "?voice=clips") -> None:
    page.goto(f"{city.url}/display/{city.clinic['id']}{query}")
    page.wait_for_function("() => window.AntreanDisplay && AntreanDisplay.snapshots >= 1")


def wait_for_engine(page: Any, engine: str) -> None:
    page.wait_for_function(f"() => AntreanDisplay.engine === {json.dumps(engine)}", timeout=10000)


def code_of(page: Any, city: City, counter: str) -> Any:
    counter_id = city.counters[counter]["id"]
    return page.locator(f'[data-counter-id="{counter_id}"] .now-serving-code')


def waiting_of(page: Any, city: City, prefix: str) -> Any:
    return page.locator(f'[data-waiting-service-id="{city.services[prefix]["id"]}"]')


def announced(page: Any) -> list[Json]:
    entries: list[Json] = page.evaluate("() => AntreanDisplay.announced")
    return entries


def wait_announced(page: Any, count: int, *, ended: bool = False, timeout: float = 20000) -> None:
    condition = f"AntreanDisplay.announced.length >= {count}"
    if ended:
        condition += f" && AntreanDisplay.announced[{count - 1}].endedAt !== null"
    page.wait_for_function(f"() => {condition}", timeout=timeout)


def load_clip_script() -> ModuleType:
    path = ROOT / "scripts" / "make_voice_clips.py"
    spec = importlib.util.spec_from_file_location("make_voice_clips", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the page


def test_snapshot_shows_counters_last_calls_and_waiting_counts(browser: Any, city: City) -> None:
    """A TV switched on mid-morning shows what is going on, without announcing any of it."""
    cid = city.clinic["id"]
    for name, prefix in (("Poli Gigi", "C"), ("Apotek", "D")):
        body = {"name": name, "service_ids": [city.services[prefix]["id"]]}
        city.api("POST", f"/clinics/{cid}/counters", json=body)
    city.counters = {c["name"]: c for c in city.api("GET", f"/clinics/{cid}/counters")}
    for _ in range(9):
        issue(city, "A")
    for _ in range(4):
        issue(city, "B")
    issue(city, "C")
    staff = city.staff_token()
    for _ in range(3):
        call_next(city, staff, "Loket 1")  # done; A-003 called
    call_next(city, staff, "Loket 2")
    serving = call_next(city, staff, "Ruang Periksa 1")  # B-001
    city.api("POST", f"/tickets/{serving['id']}/start", token=staff)
    call_next(city, staff, "Poli Gigi")  # C-001

    with display(browser) as page:
        open_display(page, city)
        expect(page.locator("#clinic-name")).to_have_text("Puskesmas Klandasan Ilir")
        expect(code_of(page, city, "Loket 1")).to_have_text("A-003")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-004")
        expect(code_of(page, city, "Ruang Periksa 1")).to_have_text("B-001")
        expect(code_of(page, city, "Poli Gigi")).to_have_text("C-001")
        expect(code_of(page, city, "Apotek")).to_have_text("")
        apotek = page.locator(f'[data-counter-id="{city.counters["Apotek"]["id"]}"]')
        expect(apotek).to_contain_text("Belum ada panggilan")
        rp1 = page.locator(f'[data-counter-id="{city.counters["Ruang Periksa 1"]["id"]}"]')
        expect(rp1).to_contain_text("Poli Umum")
        expect(rp1).to_contain_text("Sedang dilayani")

        calls = page.locator("#last-calls li")
        expect(calls).to_have_count(6)
        expect(calls.nth(0)).to_contain_text("C-001")
        expect(calls.nth(0)).to_contain_text("Poli Gigi")
        expect(calls.nth(5)).to_contain_text("A-001")

        expect(waiting_of(page, city, "A")).to_have_text("5")
        expect(waiting_of(page, city, "B")).to_have_text("3")
        expect(waiting_of(page, city, "C")).to_have_text("0")
        expect(waiting_of(page, city, "D")).to_have_text("0")
        expect(page.locator(".waiting-list")).to_contain_text("Pendaftaran")
        clock = page.locator("#clock-time")
        expect(clock).to_have_text(re.compile(r"^\d\d[.:]\d\d$"))

        wait_for_engine(page, "clips")
        page.wait_for_timeout(800)
        assert announced(page) == [], "a snapshot never announces"

        # One live call, to show the newest call highlighted in the picture.
        call_next(city, staff, "Loket 2")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-005")
        expect(page.locator("[data-counter-id].is-new")).to_have_count(1)
        page.wait_for_timeout(300)
        screenshot(page, "display")

        # The same TV in English (the voice stays Indonesian; here it is off).
        page.goto(f"{city.url}/display/{cid}?lang=en&voice=off")
        page.wait_for_function("() => AntreanDisplay.snapshots >= 1")
        expect(page.locator(".last-calls-panel h2")).to_have_text("Last calls")
        expect(apotek).to_contain_text("No call yet")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-005")
        page.wait_for_function("() => AntreanDisplay.engine === 'none'")


def test_a_call_reaches_the_tv_within_a_second(browser: Any, city: City) -> None:
    issue(city, "A")
    issue(city, "A")
    staff = city.staff_token()
    with display(browser) as page:
        open_display(page, city)
        expect(waiting_of(page, city, "A")).to_have_text("2")
        expect(page.locator("#last-calls li")).to_have_count(0)

        call_next(city, staff, "Loket 2")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-001", timeout=1000)
        expect(page.locator("#last-calls li").first).to_contain_text("A-001", timeout=1000)
        expect(page.locator("#last-calls li").first).to_contain_text("Loket 2")
        expect(waiting_of(page, city, "A")).to_have_text("1", timeout=1000)

        issue(city, "B")
        expect(waiting_of(page, city, "B")).to_have_text("1", timeout=1000)

        # Next again: A-001 is done, A-002 now at Loket 2.
        call_next(city, staff, "Loket 2")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-002", timeout=1000)
        expect(page.locator("#last-calls li")).to_have_count(2)
        expect(page.locator("#last-calls li").first).to_contain_text("A-002")


def test_calls_are_spoken_in_order_one_at_a_time_and_a_recall_again(
    browser: Any, city: City
) -> None:
    for _ in range(12):
        issue(city, "A")
    issue(city, "B")
    staff = city.staff_token()
    for _ in range(11):
        call_next(city, staff, "Loket 1")  # A-001 .. A-011, before the TV is on

    with display(browser) as page:
        open_display(page, city)
        wait_for_engine(page, "clips")

        a012 = call_next(city, staff, "Loket 2")
        assert a012["code"] == "A-012"
        b001 = call_next(city, staff, "Ruang Periksa 1")
        city.api("POST", f"/tickets/{a012['id']}/recall", token=staff)
        expect(code_of(page, city, "Ruang Periksa 1")).to_have_text(b001["code"], timeout=1000)
        expect(page.locator("#last-calls li").first).to_contain_text("A-012")
        expect(page.locator("#last-calls li.is-recall")).to_have_count(1)

        wait_announced(page, 3, timeout=30000)  # the third started: the first two ended
        first, second, third = announced(page)[:3]
        assert (first["code"], first["counter"], first["recall"]) == ("A-012", "Loket 2", False)
        assert first["words"] == A012_AT_LOKET_2
        assert first["engine"] == "clips"
        assert (second["code"], second["counter"]) == ("B-001", "Ruang Periksa 1")
        assert second["words"] == [
            "chime", "nomor_antrean", "b", "satu", "silakan_menuju", "ruang", "periksa", "satu",
        ]  # fmt: skip
        assert (third["code"], third["counter"], third["recall"]) == ("A-012", "Loket 2", True)
        assert third["words"] == A012_AT_LOKET_2
        for before, after in ((first, second), (second, third)):
            assert before["endedAt"] is not None
            assert after["startedAt"] >= before["endedAt"], "two calls overlapped"
        # Each call really took the time its clips last (chime + words), not an instant.
        assert first["endedAt"] - first["startedAt"] > 3000
        assert len(announced(page)) == 3


def test_number_words_and_call_phrases(browser: Any) -> None:
    """The pure functions of voice.js, without a server."""
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>voice</title>")
        page.add_script_tag(path=str(ROOT / "app/web/static/js/voice.js"))
        words = page.evaluate(
            "(ns) => ns.map((n) => AntreanVoice.numberText(n))",
            [0, 1, 10, 11, 12, 19, 20, 21, 100, 101, 111, 999, 1000, 1234, 2000, 11000, 1000000],
        )
        assert words == [
            "nol",
            "satu",
            "sepuluh",
            "sebelas",
            "dua belas",
            "sembilan belas",
            "dua puluh",
            "dua puluh satu",
            "seratus",
            "seratus satu",
            "seratus sebelas",
            "sembilan ratus sembilan puluh sembilan",
            "seribu",
            "seribu dua ratus tiga puluh empat",
            "dua ribu",
            "sebelas ribu",
            "satu juta",
        ]
        manifest = json.loads((VOICE_DIR / "manifest.json").read_text(encoding="utf-8"))
        page.evaluate("(v) => AntreanVoice.setVocabulary(v)", manifest["vocabulary"])
        assert page.evaluate("() => AntreanVoice.codeWords('A-012')") == ["a", "dua", "belas"]
        assert page.evaluate("() => AntreanVoice.codeWords('AB-100')") == ["a", "b", "seratus"]
        counters = {
            "Loket 2": ["loket", "dua"],
            "Ruang Periksa 1": ["ruang", "periksa", "satu"],
            "Poli Gigi": ["poli", "gigi"],
            "Ruang KIA/KB": ["ruang", "kia", "kb"],
            "Poli Umum 12": ["poli", "umum", "dua", "belas"],
            "Ruang II": ["ruang", "dua"],
            "Loket Zamrud": ["loket", "z", "a", "m", "r", "u", "d"],
            "Pendaftaran Lansia 3A": ["pendaftaran", "lansia", "tiga", "a"],
        }
        for name, expected in counters.items():
            got = page.evaluate("(n) => AntreanVoice.counterWords(n)", name)
            assert got == expected, name
        call = page.evaluate("() => AntreanVoice.build('A-012', 'Loket 2')")
        assert call["words"] == A012_AT_LOKET_2
        assert call["text"] == "Nomor antrean, A, dua belas. Silakan menuju, Loket 2."
        # Every word the builder can produce has a clip.
        possible = page.evaluate("() => AntreanVoice.possibleWords()")
        missing = [word for word in possible if word not in manifest["clips"]]
        assert missing == []
        assert set(manifest["vocabulary"]) <= set(possible)
        # Only an Indonesian voice that works without internet is taken.
        voices = [
            {"name": "Google Bahasa Indonesia", "lang": "id-ID", "localService": False},
            {"name": "English", "lang": "en-US", "localService": True},
            {"name": "Bahasa lokal", "lang": "id_ID", "localService": True},
        ]
        pick = "(v) => { const p = AntreanVoice.pickVoice(v, false); return p && p.name; }"
        assert page.evaluate(pick, voices) == "Bahasa lokal"
        assert page.evaluate(pick, voices[:2]) is None
    finally:
        page.close()


def test_clips_exist_for_every_word_and_stay_small() -> None:
    """Plain check of the committed clips against the script's inventory (no browser)."""
    script = load_clip_script()
    manifest = json.loads((VOICE_DIR / "manifest.json").read_text(encoding="utf-8"))
    inventory: dict[str, tuple[str, str]] = script.inventory()
    required = (
        {"chime", "nomor_antrean", "silakan_menuju"}
        | set("abcdefghijklmnopqrstuvwxyz")
        | {"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan"}
        | {"sembilan", "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus"}
        | {"seribu", "ribu", "juta"}
        | {"loket", "ruang", "ruangan", "periksa", "poli", "meja", "kamar", "pendaftaran"}
        | {"apotek", "farmasi", "laboratorium", "lab", "gigi", "umum", "anak", "kia", "kb"}
        | {"lansia", "tb", "mtbs", "imunisasi", "gizi", "sanitasi", "konseling", "kasir"}
        | {"ugd", "tindakan", "rekam", "medis"}
    )
    assert required <= set(inventory)
    words = {clip_id for clip_id, (kind, _) in inventory.items() if kind == "word"}
    assert set(manifest["vocabulary"]) == words
    for clip_id in inventory:
        entry = manifest["clips"][clip_id]
        path = VOICE_DIR / entry["file"]
        assert path.is_file(), path
        with wave.open(str(path), "rb") as clip:
            assert clip.getnchannels() == 1
            assert clip.getframerate() == 16000
            assert clip.getsampwidth() == 2
            seconds = clip.getnframes() / clip.getframerate()
        assert 0.1 < seconds < 2.5, clip_id
        assert abs(seconds - entry["duration"]) < 0.01
    total = sum(p.stat().st_size for p in VOICE_DIR.iterdir() if p.is_file())
    assert total < 2_000_000
    assert script.problems(VOICE_DIR) == []


def test_the_tv_comes_back_by_itself_after_a_server_restart(browser: Any, city: City) -> None:
    issue(city, "A")
    issue(city, "A")
    staff = city.staff_token()
    with display(browser) as page:
        open_display(page, city)
        page.evaluate("() => { window.notReloaded = true; }")
        marker = page.locator("#offline-marker")
        expect(marker).to_be_hidden()

        city.server.stop()
        expect(marker).to_be_visible(timeout=5000)
        city.server.start()
        expect(marker).to_be_hidden(timeout=20000)

        call_next(city, staff, "Loket 1")
        expect(code_of(page, city, "Loket 1")).to_have_text("A-001", timeout=2000)
        expect(page.locator("#last-calls li").first).to_contain_text("A-001")
        expect(waiting_of(page, city, "A")).to_have_text("1")
        assert page.evaluate("() => window.notReloaded === true")


def test_calls_and_setup_changes_made_while_the_tv_was_cut_off_reach_it(
    browser: Any, city: City
) -> None:
    """A reconnecting TV starts from a snapshot (setup changes are not replayed by `since`);
    the calls it missed meanwhile are in that snapshot, and still spoken."""
    issue(city, "A")
    staff = city.staff_token()
    with display(browser) as page:
        open_display(page, city)
        wait_for_engine(page, "clips")
        # Cut the TV off, and hold its reconnection until the clinic has moved on.
        page.evaluate("() => { const f = AntreanDisplay.feed; f.drop(); clearTimeout(f.timer); }")
        call_next(city, staff, "Loket 1")
        city.api("PATCH", f"/services/{city.services['B']['id']}", json={"name": "Poli Dewasa"})
        page.evaluate("() => AntreanDisplay.feed.connect(false)")
        expect(code_of(page, city, "Loket 1")).to_have_text("A-001", timeout=2000)
        expect(page.get_by_text("Poli Dewasa").first).to_be_visible()
        wait_announced(page, 1)
        assert [entry["code"] for entry in announced(page)] == ["A-001"]


def test_a_lost_message_is_noticed_by_its_seq_and_fetched_again(browser: Any, city: City) -> None:
    """A message lost on the way (here: dropped between server and page) leaves a gap in seq;
    the next message shows the gap and the page reconnects with since= to get what it missed."""
    issue(city, "A")
    staff = city.staff_token()
    sockets: list[str] = []
    dropped: list[Json] = []

    def route(ws: Any) -> None:
        sockets.append(ws.url)
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "ticket.called" and not dropped:
                dropped.append(data)
                return
            ws.send(message)

        server.on_message(from_server)

    with display(browser) as page:
        page.route_web_socket(re.compile(r"/ws/clinics/"), route)
        open_display(page, city)
        seq_before = page.evaluate("() => AntreanDisplay.lastSeq")

        call_next(city, staff, "Loket 1")
        page.wait_for_timeout(500)
        assert len(dropped) == 1
        expect(code_of(page, city, "Loket 1")).to_have_text("")  # the page never got it

        issue(city, "B")  # the next event: its seq is one too far
        expect(code_of(page, city, "Loket 1")).to_have_text("A-001", timeout=3000)
        expect(page.locator("#last-calls li").first).to_contain_text("A-001")
        expect(waiting_of(page, city, "B")).to_have_text("1")
        assert len(sockets) == 2
        assert f"since={seq_before}" in sockets[1]
        assert page.evaluate("() => AntreanDisplay.lastSeq") == seq_before + 2


def test_an_old_call_replayed_after_a_reconnect_is_shown_but_not_spoken(
    browser: Any, city: City
) -> None:
    issue(city, "A")
    issue(city, "A")
    staff = city.staff_token()

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "ticket.called" and data["ticket"]["code"] == "A-001":
                # As it comes when the TV was away for ten minutes.
                at = datetime.fromisoformat(data["at"]) - timedelta(minutes=10)
                data["at"] = at.isoformat()
                message = json.dumps(data)
            ws.send(message)

        server.on_message(from_server)

    with display(browser) as page:
        page.route_web_socket(re.compile(r"/ws/clinics/"), route)
        open_display(page, city)
        wait_for_engine(page, "clips")
        call_next(city, staff, "Loket 1")
        expect(code_of(page, city, "Loket 1")).to_have_text("A-001", timeout=1000)
        expect(page.locator("#last-calls li").first).to_contain_text("A-001")
        call_next(city, staff, "Loket 2")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-002", timeout=1000)
        wait_announced(page, 1)
        assert [entry["code"] for entry in announced(page)] == ["A-002"]


# ---------------------------------------------------------------- sound permission and voice

BLOCKED_AUTOPLAY = """
(() => {
  // A browser started without --autoplay-policy=no-user-gesture-required: audio stays
  // suspended until someone taps the page. A tap is a trusted input event: Playwright runs
  // its own evaluations as user gestures, so navigator.userActivation would let the audio
  // start whenever the test happened to poll the page.
  let tapped = false;
  for (const type of ["pointerdown", "touchend", "keydown"]) {
    window.addEventListener(type, (event) => { if (event.isTrusted) tapped = true; }, true);
  }
  const Real = window.AudioContext;
  window.AudioContext = function () {
    const ctx = new Real();
    const resume = ctx.resume.bind(ctx);
    let allowed = false;
    ctx.suspend();
    Object.defineProperty(ctx, "state", {get: () => (allowed ? "running" : "suspended")});
    ctx.resume = () => {
      if (!tapped) {
        return new Promise(() => {});  // like Chrome: pending until a tap
      }
      allowed = true;
      return resume();
    };
    return ctx;
  };
})();
"""


def test_without_autoplay_a_tap_turns_the_sound_on(browser: Any, city: City) -> None:
    issue(city, "A")
    staff = city.staff_token()
    with display(browser, init_script=BLOCKED_AUTOPLAY) as page:
        open_display(page, city)
        wait_for_engine(page, "clips")
        overlay = page.locator("#sound-overlay")
        expect(overlay).to_be_visible(timeout=10000)
        expect(overlay).to_contain_text("Sentuh layar ini sekali")

        call_next(city, staff, "Loket 2")
        expect(code_of(page, city, "Loket 2")).to_have_text("A-001", timeout=1000)
        page.wait_for_timeout(500)
        assert announced(page) == []  # waiting for the tap, not lost

        overlay.click()
        expect(overlay).to_be_hidden(timeout=3000)
        wait_announced(page, 1, timeout=5000)
        assert announced(page)[0]["code"] == "A-001"


FAKE_INDONESIAN_VOICE = """
(() => {
  // A TV with an Indonesian voice installed (and a network one, which is not used).
  window.spoken = [];
  const voices = [
    {name: "Google Bahasa Indonesia", lang: "id-ID", localService: false},
    {name: "Bahasa Indonesia (perangkat)", lang: "id-ID", localService: true},
  ];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  const synth = {
    getVoices: () => voices,
    speak: (u) => {
      if (!u.text) return;
      window.spoken.push({text: u.text, voice: u.voice && u.voice.name, at: Date.now()});
      setTimeout(() => u.onend && u.onend({}), 400);
    },
    cancel: () => {},
    addEventListener: () => {},
  };
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
})();
"""


def test_a_tv_with_an_indonesian_voice_speaks_with_it(browser: Any, city: City) -> None:
    issue(city, "A")
    staff = city.staff_token()
    with display(browser, init_script=FAKE_INDONESIAN_VOICE) as page:
        open_display(page, city, query="")
        wait_for_engine(page, "speech")
        call_next(city, staff, "Loket 2")
        wait_announced(page, 1, ended=True, timeout=10000)
        entry = announced(page)[0]
        assert entry["engine"] == "speech"
        assert entry["text"] == "Nomor antrean, A, satu. Silakan menuju, Loket 2."
        assert entry["words"][0] == "chime"
        spoken = page.evaluate("() => window.spoken")
        assert [(s["text"], s["voice"]) for s in spoken] == [
            ("Nomor antrean, A, satu. Silakan menuju, Loket 2.", "Bahasa Indonesia (perangkat)")
        ]
        # The chime came first, then the voice.
        assert spoken[0]["at"] - entry["startedAt"] > 1000

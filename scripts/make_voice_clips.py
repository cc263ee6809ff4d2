"""Make the waiting-room TV's recorded voice: short Bahasa Indonesia clips and a chime.

The display (app/web/static/js/voice.js) speaks a call such as "Nomor antrean, A, dua belas,
silakan menuju, Loket dua" with the browser's own Indonesian speech synthesis when the TV has
one, and otherwise by playing these clips one after another. They are made once, with Debian's
espeak-ng (`espeak-ng -v id`) and sox, and committed as static files:

    python scripts/make_voice_clips.py            # (re)write app/web/static/voice/
    python scripts/make_voice_clips.py --check    # only verify the committed set is complete

Every clip is mono 16 kHz 16-bit WAV, silence trimmed, peak-normalised, so the whole set stays
well under 2 MB. `manifest.json` lists every clip with its file, duration and the text it says;
voice.js loads it and takes the counter-word vocabulary from it. See docs/voice.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "app" / "web" / "static" / "voice"
MANIFEST = "manifest.json"
SAMPLE_RATE = 16000
VOICE = "id"
SPEED = 160  # words per minute: a little slower than espeak's 175, for a noisy waiting room
MAX_TOTAL_BYTES = 2_000_000

# The fixed phrases of a call.
PHRASES: dict[str, str] = {
    "nomor_antrean": "nomor antrean",
    "silakan_menuju": "silakan menuju",
}

# Letters as Indonesians spell them (ticket prefixes, and unknown words in counter names).
LETTERS: dict[str, str] = {
    "a": "a",
    "b": "be",
    "c": "ce",
    "d": "de",
    "e": "e",
    "f": "ef",
    "g": "ge",
    "h": "ha",
    "i": "i",
    "j": "je",
    "k": "ka",
    "l": "el",
    "m": "em",
    "n": "en",
    "o": "o",
    "p": "pe",
    "q": "ki",
    "r": "er",
    "s": "es",
    "t": "te",
    "u": "u",
    "v": "ve",
    "w": "we",
    "x": "eks",
    "y": "ye",
    "z": "zet",
}

# The words numbers are made of: 12 is "dua belas", 1234 "seribu dua ratus tiga puluh empat".
NUMBERS: dict[str, str] = {
    "nol": "nol",
    "satu": "satu",
    "dua": "dua",
    "tiga": "tiga",
    "empat": "empat",
    "lima": "lima",
    "enam": "enam",
    "tujuh": "tujuh",
    "delapan": "delapan",
    "sembilan": "sembilan",
    "sepuluh": "sepuluh",
    "sebelas": "sebelas",
    "belas": "belas",
    "puluh": "puluh",
    "seratus": "seratus",
    "ratus": "ratus",
    "seribu": "seribu",
    "ribu": "ribu",
    "juta": "juta",
}

# Words of puskesmas counter and room names. The value is what espeak-ng is given: acronyms
# are said letter by letter, as staff and patients say them ("KIA" is "ka i a").
VOCABULARY: dict[str, str] = {
    "loket": "loket",
    "ruang": "ruang",
    "ruangan": "ruangan",
    "periksa": "periksa",
    "pemeriksaan": "pemeriksaan",
    "poli": "poli",
    "klinik": "klinik",
    "meja": "meja",
    "kamar": "kamar",
    "pendaftaran": "pendaftaran",
    "apotek": "apotek",
    "farmasi": "farmasi",
    "obat": "obat",
    "laboratorium": "laboratorium",
    "lab": "lab",
    "gigi": "gigi",
    "mulut": "mulut",
    "umum": "umum",
    "anak": "anak",
    "ibu": "ibu",
    "hamil": "hamil",
    "bersalin": "bersalin",
    "bayi": "bayi",
    "balita": "balita",
    "kia": "ka i a",
    "kb": "ka be",
    "lansia": "lansia",
    "tb": "te be",
    "paru": "paru",
    "mtbs": "em te be es",
    "imunisasi": "imunisasi",
    "vaksinasi": "vaksinasi",
    "gizi": "gizi",
    "sanitasi": "sanitasi",
    "konseling": "konseling",
    "konsultasi": "konsultasi",
    "kasir": "kasir",
    "ugd": "u ge de",
    "igd": "i ge de",
    "gawat": "gawat",
    "darurat": "darurat",
    "tindakan": "tindakan",
    "rekam": "rekam",
    "medis": "medis",
    "layanan": "layanan",
    "pelayanan": "pelayanan",
    "kesehatan": "kesehatan",
    "jiwa": "jiwa",
    "mata": "mata",
    "tht": "te ha te",
    "kulit": "kulit",
    "remaja": "remaja",
    "dokter": "dokter",
    "bidan": "bidan",
    "fisioterapi": "fisioterapi",
    "radiologi": "radiologi",
    "usg": "u es ge",
    "ekg": "e ka ge",
    "ims": "i em es",
    "hiv": "ha i ve",
    "ispa": "ispa",
    "kusta": "kusta",
    "kesling": "kesling",
    "bpjs": "be pe je es",
    "informasi": "informasi",
    "prioritas": "prioritas",
    "khusus": "khusus",
    "lantai": "lantai",
    "gedung": "gedung",
}

CHIME = "chime"


def inventory() -> dict[str, tuple[str, str]]:
    """Every clip id the phrase builder in voice.js can ask for: id -> (kind, spoken text)."""
    clips: dict[str, tuple[str, str]] = {CHIME: ("chime", "")}
    for kind, table in (
        ("phrase", PHRASES),
        ("letter", LETTERS),
        ("number", NUMBERS),
        ("word", VOCABULARY),
    ):
        for clip_id, text in table.items():
            if clip_id in clips:
                raise ValueError(f"clip id {clip_id!r} is used twice")
            clips[clip_id] = (kind, text)
    return clips


def _run(*args: str) -> None:
    if args[0] == "sox":  # no dither, fixed seeds: the same input gives the same bytes
        args = ("sox", "-D", "-R", *args[1:])
    subprocess.run(args, check=True, capture_output=True)


def _sox_finish(source: Path, target: Path) -> None:
    """Mono 16 kHz 16-bit, silence trimmed at both ends (voice.js adds the pauses), peak -1 dBFS."""
    _run(
        "sox",
        str(source),
        "-r",
        str(SAMPLE_RATE),
        "-c",
        "1",
        "-b",
        "16",
        str(target),
        "silence",
        "1",
        "0.01",
        "1%",
        "reverse",
        "silence",
        "1",
        "0.01",
        "1%",
        "reverse",
        "gain",
        "-n",
        "-1",
    )


def make_speech(text: str, target: Path, workdir: Path) -> None:
    raw = workdir / "raw.wav"
    _run("espeak-ng", "-v", VOICE, "-s", str(SPEED), "-w", str(raw), text)
    _sox_finish(raw, target)


def make_chime(target: Path, workdir: Path) -> None:
    """A two-tone "ding-dong" (G5 then E5, with a soft octave overtone), about 1.6 s."""
    tones = []
    for index, (frequency, length) in enumerate(((784, 0.9), (659, 1.2))):
        tone = workdir / f"tone{index}.wav"
        _run(
            "sox",
            "-n",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(tone),
            "synth",
            str(length),
            "sine",
            str(frequency),
            "sine",
            str(frequency * 2),
            "remix",
            "-",
            "fade",
            "l",
            "0.01",
            str(length),
            str(length - 0.02),
            "gain",
            "-n",
            "-4",
        )
        tones.append(tone)
    delayed = workdir / "tone1-delayed.wav"
    _run("sox", str(tones[1]), str(delayed), "pad", "0.45", "0")
    mixed = workdir / "chime-mixed.wav"
    _run("sox", "-m", str(tones[0]), str(delayed), str(mixed))
    _run("sox", str(mixed), "-b", "16", str(target), "gain", "-n", "-2")


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as clip:
        return clip.getnframes() / clip.getframerate()


def tool_version(*command: str) -> str:
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[0]


def build(out_dir: Path) -> dict[str, object]:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install -y espeak-ng sox)")
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = inventory()
    entries: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for clip_id, (kind, text) in clips.items():
            target = out_dir / f"{clip_id}.wav"
            if kind == "chime":
                make_chime(target, workdir)
            else:
                make_speech(text, target, workdir)
            entries[clip_id] = {
                "file": target.name,
                "kind": kind,
                "text": text,
                "duration": round(wav_duration(target), 3),
            }
    wanted = {f"{clip_id}.wav" for clip_id in clips}
    for stale in out_dir.glob("*.wav"):
        if stale.name not in wanted:
            stale.unlink()
    manifest: dict[str, object] = {
        "format": "wav",
        "sample_rate": SAMPLE_RATE,
        "generator": {
            "script": "scripts/make_voice_clips.py",
            "espeak_ng": tool_version("espeak-ng", "--version"),
            "voice": VOICE,
            "speed_wpm": SPEED,
        },
        "phrases": sorted(PHRASES),
        "letters": sorted(LETTERS),
        "numbers": sorted(NUMBERS),
        "vocabulary": sorted(VOCABULARY),
        "clips": entries,
    }
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return manifest


def problems(out_dir: Path) -> list[str]:
    """What is wrong with the committed set (empty when it is complete and small enough)."""
    path = out_dir / MANIFEST
    if not path.exists():
        return [f"{path} is missing"]
    manifest = json.loads(path.read_text(encoding="utf-8"))
    listed: dict[str, dict[str, object]] = manifest.get("clips", {})
    found: list[str] = []
    for clip_id in inventory():
        entry = listed.get(clip_id)
        if entry is None:
            found.append(f"{clip_id}: not in the manifest")
            continue
        clip = out_dir / str(entry["file"])
        if not clip.exists():
            found.append(f"{clip_id}: {clip.name} is missing")
            continue
        with wave.open(str(clip), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getframerate() != SAMPLE_RATE:
                found.append(f"{clip_id}: not mono {SAMPLE_RATE} Hz")
            if wav.getnframes() == 0:
                found.append(f"{clip_id}: empty")
    if sorted(manifest.get("vocabulary", [])) != sorted(VOCABULARY):
        found.append("the manifest's vocabulary differs from the script's: regenerate")
    total = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    if total > MAX_TOTAL_BYTES:
        found.append(f"the set is {total} bytes, more than {MAX_TOTAL_BYTES}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the clips go")
    parser.add_argument(
        "--check", action="store_true", help="only verify the set in --out is complete"
    )
    args = parser.parse_args(argv)
    if not args.check:
        manifest = build(args.out)
        clips = manifest["clips"]
        assert isinstance(clips, dict)
        total = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
        sys.stdout.write(f"{len(clips)} clips, {total / 1e6:.2f} MB in {args.out}\n")
    found = problems(args.out)
    for problem in found:
        sys.stderr.write(f"voice clips: {problem}\n")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())

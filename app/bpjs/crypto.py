"""BPJS's encrypted answers: AES-256-CBC over LZ-string text, keyed per call.

The key is SHA-256(cons_id + cons_secret + timestamp) with the timestamp the call was signed
with, the IV its first 16 bytes; inside is LZ-string's URI-safe compression of the JSON.
encrypt_response is the inverse, for the fake BPJS.
"""

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lzstring import LZString

_BLOCK_BITS = 128


class DecryptError(ValueError):
    """An answer that does not open with this call's key, or is not what BPJS sends."""


def response_key(cons_id: str, cons_secret: str, timestamp: str) -> bytes:
    """The 32-byte AES key of the answer to the call signed at `timestamp`."""
    return hashlib.sha256(f"{cons_id}{cons_secret}{timestamp}".encode()).digest()


def _to_utf16_units(text: str) -> str:
    # LZ-string works on JavaScript's 16-bit units and the Python port writes one unit per
    # character: characters past U+FFFF go in as their surrogate pair, as JavaScript has them.
    if all(ord(char) <= 0xFFFF for char in text):
        return text
    raw = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(raw[i : i + 2], "little")) for i in range(0, len(raw), 2))


def _from_utf16_units(units: str) -> str:
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def lz_compress(text: str) -> str:
    """LZ-string compressToEncodedURIComponent, equal to the JavaScript original's."""
    return LZString.compressToEncodedURIComponent(_to_utf16_units(text))


def lz_decompress(compressed: str) -> str:
    """LZ-string decompressFromEncodedURIComponent; DecryptError when it is not LZ-string."""
    try:
        units = LZString.decompressFromEncodedURIComponent(compressed)
        if units is None:
            raise DecryptError("not LZ-string text")
        return _from_utf16_units(units)
    except DecryptError:
        raise
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        # The port indexes its alphabet and dictionary without checks: foreign text raises.
        raise DecryptError(f"not LZ-string text ({type(exc).__name__})") from exc


def _cipher(cons_id: str, cons_secret: str, timestamp: str) -> Cipher[modes.CBC]:
    key = response_key(cons_id, cons_secret, timestamp)
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def decrypt_response(text: str, *, cons_id: str, cons_secret: str, timestamp: str) -> Any:
    """The JSON value inside an encrypted `response`; DecryptError for anything else."""
    try:
        sealed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("response is not base64") from exc
    if not sealed or len(sealed) % 16:
        raise DecryptError("response is not whole AES blocks")
    decryptor = _cipher(cons_id, cons_secret, timestamp).decryptor()
    padded = decryptor.update(sealed) + decryptor.finalize()
    unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        compressed = plain.decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        # Almost always a wrong key: the consumer secret, or a timestamp not the signed one.
        raise DecryptError("response does not open with this call's key") from exc
    try:
        return json.loads(lz_decompress(compressed))
    except json.JSONDecodeError as exc:
        raise DecryptError("response is not JSON inside") from exc


def encrypt_response(value: Any, *, cons_id: str, cons_secret: str, timestamp: str) -> str:
    """What BPJS puts in `response` for `value`: base64(AES(LZ-string(JSON)))."""
    compressed = lz_compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(compressed.encode("ascii")) + padder.finalize()
    encryptor = _cipher(cons_id, cons_secret, timestamp).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

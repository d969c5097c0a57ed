"""How a run's action records are kept: one compact document per journal commit (a *segment*).

A run journal commit used to write one ``run_actions`` row per action record (an INSERT, or an
UPDATE of the row its start wrote), each row with its own random id and its place in the
``(run_id, path)`` index: a Request → Compose → Compose → Response run cost three rows and some
ten B-tree pages in the WAL. Now a commit appends ONE ``run_segments`` row holding every record it
stores, as the record texts the journal already encoded, joined without decoding:

    [["Compose", 1, "Succeeded", null, {...record...}], ["Http", 2, "Running", "key", {...}], ...]

(path, seq, status, idempotency key, record: the columns ``run_actions`` had, beside the record
itself, which may be sealed whole).

Above :data:`COMPRESS_ABOVE` bytes the document is deflated (tagged by its first byte: ``[``
plain JSON, ``d`` raw deflate primed with ``_DICTIONARY``, the keys every record repeats, which
takes the three records of a Compose → Compose → Response run from 1.3 KB to 0.3 KB for ~10 µs
of CPU). A record above :data:`OUT_OF_LINE_ABOVE` bytes is kept out of line in ``run_blobs``
under its SHA-256 (once per run however often it repeats), its entry ``[path, seq, status, key,
null, digest]``, and read with the run's history. A later segment's record for a path replaces
an earlier one (an Http action's start, then its end). Runs stored before segments existed keep
their ``run_actions`` rows; readers merge both (:func:`merged`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "COMPRESS_ABOVE",
    "OUT_OF_LINE_ABOVE",
    "Entry",
    "StoredRecord",
    "decoded",
    "merged",
    "pack",
    "unpack",
    "unpack_blob",
]

#: Documents larger than this are compressed (smaller ones gain too little for the CPU it costs).
COMPRESS_ABOVE = 256
#: Records larger than this go to ``run_blobs``, read only with the run's history.
OUT_OF_LINE_ABOVE = 64 * 1024
_DEFLATED = b"d"
_LEVEL = 1  # fast: the journal compresses on the serving process's event loop
# What action records repeat (history_view's keys, common values), most frequent last: deflate
# finds them from a segment's first byte on. NEVER change it: stored segments are read with it
# (a new dictionary needs a new tag byte, the old one kept for reading).
_DICTIONARY = (
    b'"method":"POST","uri":"http://"headers":{},"body":{"statusCode":200,"type":"Http",'
    b'"type":"Response","Failed","Skipped","Running","secure_inputs":false,"secure_outputs":false}]'
    b',"idempotency_key":"iteration":null,"retries":[],"code":"OK","error":null,"outputs":'
    b'"inputs":"start":"2026-12-04T"end":"seq":"status":"Succeeded","parent":"","type":"Compose",'
    b'"name":"path":'
)


@dataclass(frozen=True)
class StoredRecord:
    """One action record as the store returns it: ``record`` is its JSON value as written."""

    path: str
    seq: int
    record: Any
    status: str | None = None
    idempotency_key: str | None = None


#: One record as the journal hands it over: path, seq, status, idempotency key, record JSON text.
Entry = tuple[str, int, str, str | None, str]


def pack(entries: Sequence[Entry]) -> tuple[bytes, dict[str, bytes]]:
    """A segment's body from ``entries`` (the record texts are joined, not decoded), and the
    out-of-line records it refers to (digest → compressed text)."""
    parts: list[str] = []
    blobs: dict[str, bytes] = {}
    for path, seq, status, key, text in entries:
        head = json.dumps([path, int(seq), status, key])[
            :-1
        ]  # "[path, seq, status, key" — the record follows
        if len(text) > OUT_OF_LINE_ABOVE:
            data = text.encode()
            digest = hashlib.sha256(data).hexdigest()
            blobs[digest] = _deflated(data)
            parts.append(f"{head},null,{json.dumps(digest)}]")
        else:
            parts.append(f"{head},{text}]")
    body = ("[" + ",".join(parts) + "]").encode()
    if len(body) > COMPRESS_ABOVE:
        body = _deflated(body)
    return body, blobs


def _deflated(data: bytes) -> bytes:
    deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return _DEFLATED + deflate.compress(data) + deflate.flush()


def _text(data: bytes) -> bytes:
    if data[:1] == _DEFLATED:
        inflate = zlib.decompressobj(-15, _DICTIONARY)
        return inflate.decompress(data[1:]) + inflate.flush()
    return data


def decoded(data: bytes) -> bytes:
    """A segment's body or a blob's data as JSON text (UTF-8), however it is stored: for readers
    that look at the bytes, e.g. a test proving no secret is at rest (deflate is not encryption)."""
    return _text(bytes(data))


def unpack(body: bytes) -> list[list[Any]]:
    """A segment's entries: ``[path, seq, status, key, record]`` or ``[..., None, digest]``."""
    entries = json.loads(_text(bytes(body)))
    if not isinstance(entries, list):
        raise ValueError("a run segment is not a list of records")
    return entries


def unpack_blob(data: bytes) -> Any:
    """An out-of-line record's JSON value."""
    return json.loads(_text(bytes(data)))


def merged(
    legacy: Iterable[StoredRecord],
    segments: Iterable[bytes],
    blobs: Callable[[set[str]], Mapping[str, bytes]] | None = None,
) -> list[StoredRecord]:
    """A run's records in ``seq`` order: the ``run_actions`` rows of runs stored before segments,
    then the segments in commit order (a later record for a path replaces an earlier one).
    ``blobs`` reads out-of-line records (digests → data), called only when a record is out of
    line; a missing one reads as None."""
    found: dict[str, StoredRecord] = {r.path: r for r in legacy}
    outside: dict[str, str] = {}  # path -> digest of its record, kept out of line
    for body in segments:
        for entry in unpack(body):
            path, seq, status, key = entry[0], int(entry[1]), entry[2], entry[3]
            if len(entry) > 5:
                outside[path] = entry[5]
                record = None
            else:
                outside.pop(path, None)
                record = entry[4]
            found[path] = StoredRecord(path, seq, record, status, key)
    if outside and blobs is not None:
        data = blobs(set(outside.values()))
        for path, digest in outside.items():
            stored = data.get(digest)
            if stored is not None:
                found[path] = replace(found[path], record=unpack_blob(stored))
    return sorted(found.values(), key=lambda r: r.seq)

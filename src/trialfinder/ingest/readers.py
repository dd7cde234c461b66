"""Read study records out of files, folders and archives, in every shape people save them.

Each input yields either a Record (one study, its original text and its typed model) or a Rejected (what could
not be read, with file, position and reason). Nothing here writes anywhere.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from trialfinder.model import Study, decode_study

_CLASSIC_API_KEYS = {"FullStudiesResponse", "StudyFieldsResponse", "FullStudy", "StudyStructure"}
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_XML_SUFFIXES = (".xml", ".xml.gz")
_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_STREAMED_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_STREAM_BUFFER_BYTES = 1 << 20
_STREAM_PEEK_BYTES = 4096
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass
class Record:
    """One study read from an input."""

    source: str
    position: str
    raw: str
    study: Study


class ShippedRecord(Record):
    """A Record rebuilt from what an ingest worker process sent (UTF-8 bytes, no typed study): the text and the study
    are decoded only if someone asks for them, so a progress callback that reads only the source costs nothing."""

    def __init__(self, source: str, position: str, raw_utf8: bytes):
        self.source = source
        self.position = position
        self._raw_utf8 = raw_utf8
        self._study: Study | None = None

    @property
    def raw(self) -> str:  # type: ignore[override]
        return self._raw_utf8.decode()

    @property
    def study(self) -> Study:  # type: ignore[override]
        if self._study is None:
            self._study = decode_study(self._raw_utf8)
        return self._study


@dataclass
class Rejected:
    """An input, or one record inside it, that could not be read."""

    source: str
    position: str | None
    reason: str
    nct_id: str | None = None
    field: str | None = None

    def as_row(self) -> dict:
        return {"source": self.source, "position": self.position, "nct_id": self.nct_id, "field": self.field,
                "reason": self.reason}


Item = Record | Rejected


_NCT_ID_FIELD = "$.protocolSection.identificationModule.nctId"
_NCT_ID_RE = re.compile(r"NCT\d{8}")


class _Page(msgspec.Struct):
    studies: list[msgspec.Raw]


def read_paths(paths: list[str | Path]) -> Iterator[Item]:
    """Every record in the given files, folders (recursively) and archives, in a stable order."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if _is_readable_name(child.name):
                    yield from _read_file(child)
        elif path.is_file():
            yield from _read_file(path)
        else:
            yield Rejected(str(path), None, "no such file or folder")


def count_inputs(paths: list[str | Path]) -> int:
    """How many files read_paths will open (for a progress bar)."""
    total = 0
    for path in map(Path, paths):
        if path.is_dir():
            total += sum(1 for p in path.rglob("*") if p.is_file() and _is_readable_name(p.name))
        else:
            total += 1
    return total


def read_bytes(name: str, data: bytes) -> Iterator[Item]:
    """Records from the content of one file, its shape told by its name and its first bytes."""
    lower = name.lower()
    if lower.endswith(".gz") and not lower.endswith((".tar.gz", ".tgz")):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            yield Rejected(name, None, f"not a readable gzip file: {error}")
            return
        lower = lower[:-3]
    if lower.endswith(_ARCHIVE_SUFFIXES):
        yield from _read_archive(name, data)
        return
    data = _without_byte_order_mark(data)
    if lower.endswith(".xml") or data.lstrip()[:1] == b"<":
        yield from _read_legacy_xml(name, data)
    elif lower.endswith((".jsonl", ".ndjson")):
        yield from _read_json_lines(name, data)
    else:
        yield from _read_json(name, data)


def _without_byte_order_mark(data: bytes) -> bytes:
    """The text without the byte-order mark that Windows tools put first; UTF-16 JSON re-encoded as UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):]
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return data
        # XML names its own encoding, which its parser reads; only JSON is re-encoded.
        if text.lstrip()[:1] in ("{", "["):
            return text.encode("utf-8")
    return data


def _is_readable_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(_JSON_SUFFIXES + _XML_SUFFIXES + _ARCHIVE_SUFFIXES)


def _read_file(path: Path) -> Iterator[Item]:
    if path.name.lower().endswith(_STREAMED_SUFFIXES):
        yield from _stream_json_lines_file(path)
    else:
        yield from _read_whole_file(path)


def _stream_json_lines_file(path: Path) -> Iterator[Item]:
    """A JSON Lines file (plain or gzipped) read line by line, so a registry-sized file never sits in memory whole."""
    name = str(path)
    compressed = name.lower().endswith(".gz")
    try:
        handle = gzip.open(path, "rb") if compressed else open(path, "rb", buffering=_STREAM_BUFFER_BYTES)
    except OSError as error:
        yield Rejected(name, None, f"cannot read file: {error.strerror or error}")
        return
    with handle:
        try:
            head = handle.peek(_STREAM_PEEK_BYTES)[:_STREAM_PEEK_BYTES] if hasattr(handle, "peek") else b""
        except (OSError, EOFError) as error:
            yield Rejected(name, None, _stream_error_reason(compressed, error))
            return
        head = head.removeprefix(codecs.BOM_UTF8)
        if head.lstrip()[:1] == b"<" or (head and not head.strip()) or head.startswith(_UTF16_BOMS):
            # XML under a JSON Lines name, a file starting with a long blank run, or UTF-16: the whole-file path
            # decides these rare shapes exactly as before.
            handle.close()
            yield from _read_whole_file(path)
            return
        number = 0
        try:
            for chunk in handle:
                # bytes.splitlines also breaks at a lone \r, so split each \n-ended piece the same way to number
                # lines exactly as reading the whole file would.
                for line in chunk.splitlines():
                    number += 1
                    if number == 1:
                        line = line.removeprefix(codecs.BOM_UTF8)
                    if line.strip():
                        yield _record(name, f"line {number}", msgspec.Raw(line))
        except (OSError, EOFError, zlib.error) as error:
            yield Rejected(name, f"line {number + 1}", _stream_error_reason(compressed, error))


def _stream_error_reason(compressed: bool, error: BaseException) -> str:
    if compressed:
        return f"not a readable gzip file: {error}"
    return f"cannot read file: {getattr(error, 'strerror', None) or error}"


def _read_whole_file(path: Path) -> Iterator[Item]:
    try:
        data = path.read_bytes()
    except OSError as error:
        yield Rejected(str(path), None, f"cannot read file: {error.strerror or error}")
        return
    yield from read_bytes(str(path), data)


def _read_archive(name: str, data: bytes) -> Iterator[Item]:
    lower = name.lower()
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in sorted(archive.namelist()):
                    if not member.endswith("/") and _is_readable_name(member):
                        yield from read_bytes(f"{name}!{member}", archive.read(member))
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                for member in archive:
                    if member.isfile() and _is_readable_name(member.name):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            yield from read_bytes(f"{name}!{member.name}", handle.read())
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        yield Rejected(name, None, f"not a readable archive: {error}")


def _read_json(name: str, data: bytes) -> Iterator[Item]:
    head = data.lstrip()[:1]
    if head == b"[":
        try:
            elements = msgspec.json.decode(data, type=list[msgspec.Raw])
        except (msgspec.DecodeError, UnicodeDecodeError) as error:
            yield Rejected(name, None, f"invalid JSON: {error}")
            return
        for index, raw in enumerate(elements):
            yield _record(name, f"[{index}]", raw)
        return
    if head != b"{":
        yield Rejected(name, None, "not JSON: expected a study object, a list of studies or an API page")
        return
    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        if b"\n{" in data.strip():
            # More than one object, one per line: JSON Lines under a .json name.
            yield from _read_json_lines(name, data)
        else:
            yield Rejected(name, None, f"invalid JSON: {error}")
        return
    if _CLASSIC_API_KEYS & top.keys():
        yield Rejected(
            name, None,
            "retired classic ClinicalTrials.gov API format (FullStudiesResponse); download the study again "
            "from API v2 (/api/v2/studies) or the website's Download -> JSON",
        )
    elif "studies" in top:
        try:
            page = msgspec.json.decode(data, type=_Page)
        except msgspec.ValidationError as error:
            yield Rejected(name, None, f"API page whose 'studies' is not a list of studies: {error}")
            return
        for index, raw in enumerate(page.studies):
            yield _record(name, f"studies[{index}]", raw)
    else:
        yield _record(name, None, msgspec.Raw(data))


def _read_json_lines(name: str, data: bytes) -> Iterator[Item]:
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield _record(name, f"line {number}", msgspec.Raw(line))


def record_from_json(source: str, position: str | None, text: str | bytes) -> Item:
    """A Record for one study's JSON text, or a Rejected naming the field that is wrong."""
    return _record(source, position, text.encode("utf-8") if isinstance(text, str) else text)


def _record(name: str, position: str | None, raw: msgspec.Raw | bytes) -> Item:
    text = bytes(raw)
    try:
        study = decode_study(text)
    except msgspec.ValidationError as error:
        message = str(error)
        field = message.rsplit("at `", 1)[1].rstrip("`") if "at `" in message else None
        return Rejected(name, position, f"wrong type: {message}", nct_id=_guess_nct_id(text), field=field)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        return Rejected(name, position, f"invalid JSON: {error}")
    if not study.nct_id:
        return Rejected(name, position, "record without an NCT id", field=_NCT_ID_FIELD)
    if not _NCT_ID_RE.fullmatch(study.nct_id):
        return Rejected(name, position, f"NCT id {study.nct_id[:40]!r} is not NCT followed by 8 digits",
                        field=_NCT_ID_FIELD)
    return Record(name, position or study.nct_id, text.decode("utf-8", errors="replace"), study)


def _guess_nct_id(text: bytes) -> str | None:
    at = text.find(b'"nctId"')
    if at < 0:
        return None
    start = text.find(b'"NCT', at + 7)
    return text[start + 1:start + 12].decode("ascii", "replace") if 0 <= start < at + 40 else None


def _read_legacy_xml(name: str, data: bytes) -> Iterator[Item]:
    from trialfinder.ingest.legacy_xml import LegacyXmlError, legacy_xml_to_study_dict

    try:
        converted = legacy_xml_to_study_dict(data)
    except LegacyXmlError as error:
        yield Rejected(name, None, f"legacy XML: {error}", field=getattr(error, "field", None))
        return
    # The legacy XML is stored as the API v2 record it converts to, so that every reader sees one shape.
    yield _record(name, None, msgspec.json.encode(converted))

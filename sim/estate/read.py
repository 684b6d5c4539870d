"""Reading a folder of VB365 JSON exports: REST or PowerShell, any file names.

Each ``*.json`` file of the folder is read (UTF-8 with or without BOM, or UTF-16 with BOM, as
Windows PowerShell's ``>`` writes it); its top level is a paginated REST collection
``{"offset", "limit", "results": [...]}`` (v5 and later), a bare list (earlier REST versions and
``ConvertTo-Json`` of several objects) or one object (``ConvertTo-Json`` of a single object).
Property names are matched case-insensitively, so the REST API's camelCase (``hostName``) and
PowerShell's PascalCase (``Hostname``) read the same.

Which resource a file holds is recognised from the fields of its records, never from its name
(``RESOURCE_FIELDS``). Public sources of the representations (docs/calibrate.md lists them):

- REST collections and pagination: https://helpcenter.veeam.com/archive/vbo365/50/rest/get_job_sessions.html
- REST proxies: https://helpcenter.veeam.com/archive/vbo365/20/rest/proxies.html,
  https://helpcenter.veeam.com/archive/vbo365/60/rest/get_proxies.html
- REST sessions: https://helpcenter.veeam.com/archive/vbo365/30/rest/job_sessions.html
- PowerShell types: https://helpcenter.veeam.com/docs/vbo365/powershell/vboproxy.html,
  .../vboproxypool.html, .../vborepository.html, .../vboobjectstoragerepository.html,
  .../vbojob.html, .../vbojobsession.html, .../vbojobstatistics.html, .../vbocopyjob.html,
  .../vbocopyjobschedulepolicy.html, .../vbobackupwindowsettings.html
- REST copy jobs: https://helpcenter.veeam.com/archive/vbo365/60/rest/get_copyjobs_id.html
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sim.errors import Problem, ScenarioError
from sim.textfile import UndecodableText, decode_text

Resource = Literal["proxy", "pool", "repository", "organization", "job", "session"]

RESOURCES: tuple[Resource, ...] = ("session", "job", "repository", "proxy", "pool", "organization")
"""In the order a record is tested (a session has statistics; a job a schedule policy; ...)."""

RESOURCE_FIELDS: dict[Resource, str] = {
    "session": "statistics with creationTime, jobId, jobName or status",
    "job": "schedulePolicy, backupType/JobBackupType, or repositoryId with organizationId",
    "repository": "retentionType, objectStorage/ObjectStorageRepository, or path with a proxy "
    "or proxy pool",
    "proxy": "threadsNumber, or hostName with port",
    "pool": "proxies (or proxyIds) without a hostName",
    "organization": "officeName, isExchangeOnline/isSharePointOnline/isTeamsOnline, or a type "
    "Office365/OnPremises/Hybrid",
}
"""What identifies each resource (shown when a record matches none)."""

MAX_FILE_BYTES = 512 * 1024**2
"""Largest export file read (512 MiB): far beyond any estate's configuration or a year of
sessions; a larger file is refused rather than read into memory."""


class ExportError(ScenarioError):
    """One or more problems found in an export folder."""


MISSING: Any = object()


def _key(name: str) -> str:
    return name.lower().replace("_", "")


@dataclass
class Record:
    """One object of an export file, read with case-insensitive property names."""

    file: str
    where: str
    """Its place in the file: ``results[3]``, ``[3]`` or ``(top level)``."""
    data: dict[str, Any]
    _index: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {_key(k): k for k in self.data}

    @property
    def keys(self) -> set[str]:
        return set(self._index)

    def get(self, *names: str, default: Any = None) -> Any:
        """The first of names present (any case); default when none is."""
        for name in names:
            k = self._index.get(_key(name))
            if k is not None:
                return self.data[k]
        return default

    def has(self, *names: str) -> bool:
        return any(_key(n) in self._index for n in names)

    def field_name(self, *names: str) -> str:
        """The property as the file spells it (the first of names present), else names[0]."""
        for name in names:
            k = self._index.get(_key(name))
            if k is not None:
                return k
        return names[0]

    def problem(self, name: str, message: str) -> Problem:
        path = f"{self.where}.{name}" if self.where and name else (self.where or name)
        return Problem(self.file, None, None, path, message)

    def require(self, *names: str, what: str = "") -> Any:
        value = self.get(*names, default=MISSING)
        if value is MISSING or value is None or value == "":
            shown = " or ".join(f"'{n}'" for n in names)
            raise ExportError([self.problem(names[0], f"missing field {shown}{what}")])
        return value

    def sub(self, name: str, *aliases: str) -> Record | None:
        """A nested object (e.g. PowerShell's ``Repository`` inside a job) as a Record."""
        value = self.get(name, *aliases)
        if isinstance(value, dict):
            return Record(self.file, f"{self.where}.{self.field_name(name, *aliases)}", value)
        return None


@dataclass
class ExportFile:
    """One file of the folder with its records and the resource they are."""

    path: Path
    resource: Resource | None
    records: list[Record]
    naming: Literal["rest", "powershell", "unknown"]


@dataclass
class Export:
    """Every recognised record of a folder, by resource; what was left out and why."""

    folder: Path
    files: list[ExportFile]
    ignored: list[tuple[str, str]]
    """(file, why) for files not read: not .json, or holding no records."""

    def records(self, resource: Resource) -> list[Record]:
        return [r for f in self.files if f.resource == resource for r in f.records]

    @property
    def naming(self) -> str:
        kinds = {f.naming for f in self.files if f.naming != "unknown"}
        if not kinds:
            return "unknown"
        return "mixed" if len(kinds) > 1 else kinds.pop()


def _decode(raw: bytes, file: str) -> str:
    """UTF-8 (BOM optional) or UTF-16 with BOM (``sim.textfile.decode_text``, the rule the
    inventory CSV reader shares; no other fallback: JSON is Unicode)."""
    try:
        return decode_text(raw)[0]
    except UndecodableText as exc:
        raise ExportError(
            [
                Problem(
                    file,
                    exc.line,
                    None,
                    "",
                    f"not UTF-8 or UTF-16 text ({exc.byte} at offset {exc.start}): "
                    "save the export as UTF-8 (PowerShell: `ConvertTo-Json -Depth 5 | Out-File "
                    "-Encoding utf8 x.json`)",
                )
            ]
        ) from None


def load_json(path: Path) -> Any:
    """The JSON value of a file; a clear error (file:line:column) when it is not JSON."""
    file = str(path)
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO blocks, /dev/zero never ends: never read
            kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a directory or special file"
            message = f"is {kind}, not a regular file; give the JSON file of an export"
            raise ExportError([Problem(file, None, None, "", message)])
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise ExportError(
                [Problem(file, None, None, "", f"{size:,} bytes: larger than the 512 MiB read")]
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ExportError([Problem(file, None, None, "", f"cannot read: {exc.strerror}")]) from None
    text = _decode(raw, file)
    if not text.strip():
        raise ExportError(
            [Problem(file, None, None, "", "empty file: expected the JSON of an export")]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(
            [Problem(file, exc.lineno, exc.colno, "", f"malformed JSON: {exc.msg}")]
        ) from None
    except RecursionError:
        raise ExportError([Problem(file, None, None, "", "JSON nested too deeply")]) from None


def records_of(value: Any, file: str) -> list[Record]:
    """The records of a file's JSON: paginated, bare list or a single object."""
    if isinstance(value, dict) and _key("results") in {_key(k) for k in value}:
        results = next(v for k, v in value.items() if _key(k) == "results")
        if not isinstance(results, list):
            raise ExportError(
                [Problem(file, None, None, "results", "'results' is not a list of objects")]
            )
        items, prefix = results, "results"
    elif isinstance(value, list):
        items, prefix = value, ""
    elif isinstance(value, dict):
        return [Record(file, "(top level)", value)]
    else:
        raise ExportError(
            [
                Problem(
                    file,
                    None,
                    None,
                    "",
                    f"top level is a {type(value).__name__}: expected an object, a list of "
                    "objects or a paginated {offset, limit, results}",
                )
            ]
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ExportError(
                [
                    Problem(
                        file,
                        None,
                        None,
                        f"{prefix}[{i}]",
                        f"a {type(item).__name__}, not an object",
                    )
                ]
            )
        out.append(Record(file, f"{prefix}[{i}]", item))
    return out


_ORG_TYPES = {"office365", "onpremises", "hybrid"}


def resource_of(rec: Record) -> Resource | None:
    """Which resource a record is, from its fields (``RESOURCE_FIELDS``); None if none."""
    k = rec.keys
    if "statistics" in k and k & {"creationtime", "jobid", "jobname", "status"}:
        return "session"
    if (
        k & {"schedulepolicy", "backuptype", "jobbackuptype"}
        or {
            "repositoryid",
            "organizationid",
        }
        <= k
    ):
        return "job"
    if k & {"retentiontype", "objectstorage", "objectstoragerepository"} or (
        "path" in k and k & {"proxyid", "proxy", "proxypoolid", "proxypool"}
    ):
        return "repository"
    if "threadsnumber" in k or {"hostname", "port"} <= k:
        return "proxy"
    if k & {"proxies", "proxyids"} and "hostname" not in k:
        return "pool"
    if k & {"officename", "isexchangeonline", "issharepointonline", "isteamsonline"}:
        return "organization"
    t = rec.get("type")
    if isinstance(t, str) and t.lower() in _ORG_TYPES and "name" in k:
        return "organization"
    return None


def naming_of(records: Iterable[Record]) -> Literal["rest", "powershell", "unknown"]:
    """'rest' when property names start lower-case (camelCase), 'powershell' for PascalCase."""
    firsts = [k[0] for r in records for k in r.data if k and k[0].isalpha() and k != "_links"]
    if not firsts:
        return "unknown"
    upper = sum(c.isupper() for c in firsts)
    return "powershell" if upper * 2 > len(firsts) else "rest"


def read_export(folder: Path | str) -> Export:
    """Every ``*.json`` file of folder (not its subfolders), each recognised by its content.

    Raises ExportError naming the file (and record and field) of the first thing wrong: not a
    folder, malformed JSON, an empty file, a record that is no known resource, a file mixing
    resources.
    """
    root = Path(folder)
    if not root.is_dir():
        what = "not found" if not root.exists() else "not a folder"
        raise ExportError(
            [Problem(str(root), None, None, "", f"{what}: expected a folder of JSON exports")]
        )
    files: list[ExportFile] = []
    ignored: list[tuple[str, str]] = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() != ".json":
            ignored.append((path.name, "not a .json file"))
            continue
        recs = records_of(load_json(path), str(path))
        if not recs:
            ignored.append((path.name, "holds no records (an empty collection)"))
            continue
        kinds = [resource_of(r) for r in recs]
        for r, kind in zip(recs, kinds, strict=True):
            if kind is None:
                shown = ", ".join(sorted(r.data)[:12]) or "none"
                raise ExportError(
                    [
                        r.problem(
                            "",
                            f"cannot tell which VB365 resource this is (its fields: {shown}); "
                            "expected one of: "
                            + "; ".join(f"{res}: {why}" for res, why in RESOURCE_FIELDS.items()),
                        )
                    ]
                )
        first = kinds[0]
        for r, kind in zip(recs, kinds, strict=True):
            if kind != first:
                raise ExportError(
                    [
                        r.problem(
                            "",
                            f"this record is a {kind} but the file's first record is a {first}: "
                            "export each resource to its own file",
                        )
                    ]
                )
        files.append(ExportFile(path, first, recs, naming_of(recs)))
    if not files:
        raise ExportError(
            [Problem(str(root), None, None, "", "no JSON export files found in the folder")]
        )
    return Export(root, files, ignored)


# --- values ------------------------------------------------------------------------------------

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_time(rec: Record, *names: str) -> datetime | None:
    """An aware UTC date-time from an ISO 8601 string with ``Z`` or an offset, or Windows
    PowerShell 5.1's ``/Date(ms[+hhmm])/``; None when absent. A time without a zone is an
    error: the server's local time zone is not in the export."""
    value = rec.get(*names)
    if value is None or value == "":
        return None
    name = rec.field_name(*names)
    if not isinstance(value, str):
        raise ExportError([rec.problem(name, f"{value!r} is not a date-time string")])
    text = value.strip()
    m = _MS_DATE.match(text)
    if m is not None:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(m.group(1)))
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ExportError([rec.problem(name, f"{value!r} is not an ISO 8601 date-time")]) from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ExportError(
            [
                rec.problem(
                    name,
                    f"{value!r} has no time zone ('Z' or an offset such as '+01:00'), so its "
                    "instant is unknown; export with a zone (REST gives one; PowerShell 7: "
                    "`Get-VBOJobSession | ConvertTo-Json -Depth 5` writes the offset)",
                )
            ]
        )
    return dt.astimezone(UTC)


def enum_name(rec: Record, *names: str, allowed: Iterable[str]) -> str | None:
    """An enum value as its name (any case) among allowed; None when absent. A number (what
    PowerShell writes without ``-EnumsAsStrings``) is refused: the enums' numeric orders are
    not documented."""
    value = rec.get(*names)
    if value is None or value == "":
        return None
    name = rec.field_name(*names)
    options = list(allowed)
    if isinstance(value, bool) or not isinstance(value, str):
        raise ExportError(
            [
                rec.problem(
                    name,
                    f"{value!r} is an enum number; its order is not documented, so export the "
                    "names: PowerShell 7 `ConvertTo-Json -EnumsAsStrings -Depth 5`, or the REST "
                    f"API (allowed: {', '.join(options)})",
                )
            ]
        )
    for option in options:
        if option.lower() == value.strip().lower():
            return option
    raise ExportError(
        [rec.problem(name, f"unknown value {value!r}; allowed: {', '.join(options)}")]
    )


def as_bool(rec: Record, *names: str) -> bool | None:
    value = rec.get(*names)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ExportError([rec.problem(rec.field_name(*names), f"{value!r} is not true or false")])


def as_int(rec: Record, *names: str, low: int = 0) -> int | None:
    value = rec.get(*names)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ExportError(
            [rec.problem(rec.field_name(*names), f"{value!r} is not a whole number >= {low}")]
        )
    return value


def ident(value: Any) -> str | None:
    """A VB365 ID as a comparable string (GUIDs compare lower-case); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):  # PowerShell wraps some IDs: {"Value": "..."} or {"Id": ...}
        for k, v in value.items():
            if k.lower() in ("value", "id", "guid"):
                return ident(v)
        return None
    return str(value).strip().lower()

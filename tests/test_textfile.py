"""One decoding rule for the files of other tools (``sim.textfile``): the inventory CSV reader and
the VB365 export reader share it, so both read the same byte-order marks and say where a bad
byte is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.estate import ExportError
from sim.estate.read import load_json
from sim.textfile import UndecodableText, decode_text
from sim.workload.inventory import read_csv

SIM = Path(__file__).resolve().parent.parent / "sim"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("é,ü".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "é,ü".encode(), "utf-8-sig"),
        ("é,ü".encode("utf-16"), "utf-16"),  # with the platform's BOM
        (b"\xfe\xff" + "é,ü".encode("utf-16-be"), "utf-16"),
        (b"\xff\xfe" + "é,ü".encode("utf-16-le"), "utf-16"),
    ],
)
def test_the_byte_order_mark_decides(raw: bytes, encoding: str) -> None:
    assert decode_text(raw) == ("é,ü", encoding)


def test_fallbacks_only_where_the_reader_allows_them() -> None:
    raw = b"type,size\nmailbox,\xe9\n"  # Windows-1252 'é'
    assert decode_text(raw, fallbacks=("cp1252",)) == ("type,size\nmailbox,é\n", "cp1252")
    with pytest.raises(UndecodableText) as info:
        decode_text(raw)
    assert (info.value.line, info.value.start, info.value.byte) == (2, 18, "byte 0xe9")
    assert info.value.encodings == ["utf-8"]


def test_both_readers_name_the_line_of_a_bad_byte(tmp_path: Path) -> None:
    export = tmp_path / "x.json"
    export.write_bytes(b'{\n  "name":\n  "\xff"\n}\n')
    with pytest.raises(ExportError) as info:
        load_json(export)
    (p,) = info.value.problems
    assert p.line == 3 and "byte 0xff" in p.message and "UTF-8" in p.message
    inventory = tmp_path / "x.csv"
    inventory.write_bytes(b"\xef\xbb\xbftype,size,items\nmailbox,\xff,1\n")
    with pytest.raises(ScenarioError) as err:
        read_csv(inventory, "inventory")
    (q,) = err.value.problems
    assert q.line == 2 and "byte 0xff" in q.message and "utf-8-sig" in q.message


def test_no_other_module_sniffs_byte_order_marks() -> None:
    sniffing = re.compile(r"BOM_UTF|\\xff\\xfe|\\xfe\\xff|\\xef\\xbb\\xbf|utf-8-sig")
    found = [
        str(p.relative_to(SIM))
        for p in sorted(SIM.rglob("*.py"))
        if p.name != "textfile.py" and sniffing.search(p.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_bad_byte_is_found_after_either_mark() -> None:
    utf8 = b"\xef\xbb\xbfab\n\xff"
    with pytest.raises(UndecodableText) as info:
        decode_text(utf8)
    assert (info.value.start, info.value.line, info.value.byte) == (6, 2, "byte 0xff")
    utf16 = b"\xff\xfe" + "a\u010a\nb".encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    with pytest.raises(UndecodableText) as info:
        decode_text(utf16)
    # U+010A holds a 0x0A byte, which is no line feed: the line is counted on the text
    assert (info.value.start, info.value.line) == (10, 2)

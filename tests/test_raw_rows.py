"""Files cut into chunks of lines read back as the same rows, with their true line numbers."""

import gzip

import pytest

from mian.data.ingest.raw_rows import read_chunk, split_file

CSV = "user_id,item_id\n\nu1,i1\nu2,i2\n\nu3\nu4,i4\nu5,i5\nu6,i6\n"


def rows(path, file_format, lines_per_chunk):
    chunks = list(split_file(str(path), file_format, lines_per_chunk))
    return chunks, [(r.line, r.columns, r.error) for c in chunks for r in read_chunk(c)]


@pytest.mark.parametrize("lines_per_chunk", [1, 2, 3, 100])
def test_chunks_cover_every_line_once_with_its_number(tmp_path, lines_per_chunk):
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    chunks, read = rows(path, "csv", lines_per_chunk)
    assert read == [
        (3, {"user_id": "u1", "item_id": "i1"}, None),
        (4, {"user_id": "u2", "item_id": "i2"}, None),
        (6, None, "expected 2 CSV columns, got 1"),
        (7, {"user_id": "u4", "item_id": "i4"}, None),
        (8, {"user_id": "u5", "item_id": "i5"}, None),
        (9, {"user_id": "u6", "item_id": "i6"}, None),
    ]
    assert len(chunks) == -(-8 // lines_per_chunk)  # the 8 lines after the header


def test_a_gzipped_file_is_one_chunk_and_reads_the_same(tmp_path):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(CSV)
    plain = tmp_path / "t.csv"
    plain.write_text(CSV)
    chunks, read = rows(path, "csv", 2)
    assert len(chunks) == 1
    assert read == rows(plain, "csv", 2)[1]


def test_json_lines_keep_line_numbers_and_name_bad_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n\n{"a": 2\n{"a": 3}\n')
    _, read = rows(path, "jsonl", 2)
    assert [(line, error is None) for line, _, error in read] == [
        (1, True),
        (2, False),
        (4, False),
        (5, True),
    ]
    assert read[1][2] == "a JSON line must be an object" and read[2][2].startswith("unparseable JSON")


def test_a_byte_order_mark_does_not_rename_the_first_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffuser_id,item_id\nu1,i1\n".encode("utf-8"))
    assert rows(path, "csv", 10)[1] == [(2, {"user_id": "u1", "item_id": "i1"}, None)]

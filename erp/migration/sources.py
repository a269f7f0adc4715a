"""Reading legacy data as text: CSV (encoding and delimiter detected), XLSX and a legacy database opened
read-only. Every reader returns a SourceTable of text cells; anything too large or malformed is refused with
InvalidInput instead of being half read."""
from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from core.errors import InvalidInput

MAX_BYTES = 50 * 1024 * 1024
MAX_CELLS = 1_000_000
#: the most an xlsx may unpack to, and the highest compression ratio of a member (a zip bomb's signature)
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
INSTRUCTIONS_SHEET = "说明 Instructions"
#: cells beyond the header's columns are kept under this key so mapping can flag the row
EXTRA_CELLS = "__extra__"
_TABLE_NAME = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)?")


@dataclass
class SourceTable:
    columns: list[str]
    #: (line or row number in the source, {column: text})
    rows: list[tuple[int, dict[str, str]]]
    encoding: str | None
    delimiter: str | None
    kind: str


def read_source(filename: str, data: bytes) -> SourceTable:
    """A file by its extension: .csv, .txt or .tsv as CSV, .xlsx as a workbook."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(data)
    if suffix == ".xlsx":
        return read_xlsx(data)
    if suffix in (".xls", ".et", ".numbers"):
        raise InvalidInput("save the workbook as .xlsx (Excel 2007 or later) first",
                           {"file": [f"{suffix} files are not read"]})
    raise InvalidInput(f"{filename!r} is neither a CSV nor an XLSX file", {"file": ["use .csv or .xlsx"]})


# -- CSV ------------------------------------------------------------------------------------------------------


def read_csv(data: bytes, *, encoding: str | None = None, delimiter: str | None = None) -> SourceTable:
    """A CSV file as text rows; the encoding (UTF-8 with or without BOM, GB18030, Latin-1) and the delimiter
    (, ; tab |) are detected unless given. Row numbers are the lines the records start on."""
    _refuse_binary(data)
    text_, encoding = _decode(data, encoding)
    if delimiter is None:
        delimiter = detect_delimiter(text_)
    elif len(delimiter) != 1:
        raise InvalidInput("the delimiter is one character", {"delimiter": ["one character"]})
    try:
        header, records = _records(text_, delimiter)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV file is malformed: {exc}", {"file": [str(exc)]}) from None
    columns = _checked_header(header)
    rows = [(line, _row(columns, cells)) for line, cells in records]
    return SourceTable(columns, rows, encoding, delimiter, "csv")


def _refuse_binary(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 2**20} MB; split it",
                           {"file": ["too large"]})
    if data[:4] == b"PK\x03\x04":
        raise InvalidInput("this is a workbook, not a CSV file: upload it as .xlsx", {"file": ["not a CSV"]})
    if b"\x00" in data[:SNIFF_BYTES]:
        raise InvalidInput("this is a binary file, not a CSV text file (UTF-16 is not read either: save as "
                           "UTF-8)", {"file": ["not a CSV"]})


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the file cannot be read as {encoding}: {exc}", {"encoding": [str(exc)]}) from None
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gb18030", "latin-1")
    for candidate in candidates:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is not UTF-8 text despite its byte-order mark", {"encoding": ["not UTF-8"]})


def detect_delimiter(text_: str) -> str:
    """The delimiter among , ; tab | that splits the sample into the most consistent columns (csv.Sniffer's
    guess first), falling back to a comma."""
    sample = text_[:SNIFF_BYTES]
    if len(text_) > SNIFF_BYTES and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    if sniffed in scores and scores[sniffed] >= max(scores.values()) and scores[sniffed][1] > 1:
        return sniffed
    best = max(DELIMITERS, key=lambda d: scores[d])
    return best if scores[best][1] > 1 else ","


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    """(share of rows with the header's number of cells, the header's number of cells)."""
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error:
        return (0.0, 0)
    if not rows:
        return (0.0, 0)
    width = len(rows[0])
    body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the sample's last row may be cut short
    share = sum(len(r) == width for r in body) / len(body) if body else 1.0
    return (share if width > 1 else 0.0, width)


def _records(text_: str, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter, strict=False)
    header, records, cells_read, line = None, [], 0, 0
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines
        cells_read += len(cells)
        if cells_read > MAX_CELLS:
            raise InvalidInput(f"the file has more than {MAX_CELLS:,} cells; split it", {"file": ["too large"]})
        if header is None:
            header = cells
        else:
            records.append((start, cells))
    if header is None:
        raise InvalidInput("the file is empty", {"file": ["no header row"]})
    return header, records


# -- shared by the readers --------------------------------------------------------------------------------------


def _checked_header(cells: list) -> list[str]:
    names = [str(c if c is not None else "").strip().lstrip("\ufeff") for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing delimiters or formatted but empty columns
    errors = []
    if not names:
        errors.append("the header row is empty")
    for position, name in enumerate(names, start=1):
        if not name:
            errors.append(f"column {position} has no name")
        elif names.index(name) != position - 1:
            errors.append(f"column {position} repeats the name {name!r}")
    if errors:
        raise InvalidInput("the header row is not usable: " + "; ".join(errors), {"header": errors})
    return names


def _row(columns: list[str], cells: list[str]) -> dict[str, str]:
    row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}
    extra = [c for c in cells[len(columns):] if c.strip()]
    if extra:
        row[EXTRA_CELLS] = " | ".join(extra)
    return row


def cell_text(value) -> str:
    """A cell value as the text a user sees: dates in ISO form, numbers without float noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return _plain(Decimal(str(value)))
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _plain(number: Decimal) -> str:
    """1E+1 -> 10, 13812345678.0 -> 13812345678, 0.10 -> 0.10."""
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number, "f")


# -- XLSX ------------------------------------------------------------------------------------------------------


def read_xlsx(data: bytes, *, sheet: str | None = None) -> SourceTable:
    """The first data sheet of a workbook (not the instructions sheet) as text rows, formulas as their last
    computed values. Row numbers are the sheet's row numbers."""
    from openpyxl import load_workbook

    _check_workbook_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors on a damaged file
        raise InvalidInput(f"the workbook cannot be read: {type(exc).__name__}", {"file": ["not a valid xlsx"]}) \
            from None
    try:
        worksheet = _data_sheet(workbook, sheet)
        worksheet.reset_dimensions()  # never trust the stored size: a forged one would pad every row
        return _sheet_table(worksheet)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the workbook cannot be read: {type(exc).__name__}", {"file": ["not a valid xlsx"]}) \
            from None
    finally:
        workbook.close()


def _check_workbook_archive(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 2**20} MB; split it", {"file": ["too large"]})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput("this is not an xlsx workbook (Excel 2007 or later)", {"file": ["not a valid xlsx"]}) \
            from None
    unpacked = sum(m.file_size for m in members)
    bomb = any(m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1) and m.file_size > 2**20
               for m in members)
    if unpacked > MAX_UNPACKED_BYTES or bomb:
        raise InvalidInput("the workbook unpacks to far more data than it holds; it is refused",
                           {"file": ["too large when unpacked"]})


def _data_sheet(workbook, sheet: str | None):
    if sheet is not None:
        if sheet not in workbook.sheetnames:
            raise InvalidInput(f"the workbook has no sheet {sheet!r}", {"sheet": workbook.sheetnames})
        return workbook[sheet]
    for name in workbook.sheetnames:
        if name != INSTRUCTIONS_SHEET and not name.startswith(("说明", "Instructions")):
            return workbook[name]
    raise InvalidInput("the workbook has no data sheet", {"sheet": ["only instructions"]})


def _sheet_table(worksheet) -> SourceTable:
    columns, rows, cells_read = None, [], 0
    for row_no, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells_read += len(values)
        if cells_read > MAX_CELLS:
            raise InvalidInput(f"the sheet has more than {MAX_CELLS:,} cells; split it", {"file": ["too large"]})
        cells = [cell_text(v) for v in values]
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            columns = _checked_header(cells)
        else:
            rows.append((row_no, _row(columns, cells)))
    if columns is None:
        raise InvalidInput("the sheet is empty", {"file": ["no header row"]})
    return SourceTable(columns, rows, None, None, "xlsx")


# -- a legacy database -------------------------------------------------------------------------------------------


def read_sql(url: str, query_or_table: str, *, limit: int | None = None) -> SourceTable:
    """A table, or the result of one SELECT, from a legacy database opened read-only (SQLite or PostgreSQL).
    Row numbers count the result's rows from 1."""
    statement = _statement(query_or_table, limit)
    engine = legacy_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION READ ONLY"))
                conn.execute(text("SET LOCAL statement_timeout = '300s'"))
            result = conn.execute(text(statement), {"limit": limit} if limit is not None else {})
            columns = _checked_header(list(result.keys()))
            return SourceTable(columns, _result_rows(result, columns), None, None, "sql")
    except SQLAlchemyError as exc:
        message = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InvalidInput(f"the legacy database refused the query: {message}", {"query": [message]}) from None
    finally:
        engine.dispose()


def legacy_engine(url: str):
    """An engine on the legacy database that cannot write: SQLite opened with mode=ro (and query_only),
    PostgreSQL sessions read-only by default."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput("not a database URL", {"url": ["e.g. sqlite:///legacy.db"]}) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise InvalidInput("name the legacy SQLite file", {"url": ["sqlite:///path/to/legacy.db"]})
        uri = f"file:{quote(path)}?mode=ro"
        try:
            sqlite3.connect(uri, uri=True).close()
        except sqlite3.Error:
            raise InvalidInput(f"the SQLite file {path} cannot be opened", {"url": ["no such database"]}) from None
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON"))
        return engine
    if backend == "postgresql":
        return create_engine(parsed, connect_args={"options": "-c default_transaction_read_only=on"})
    raise InvalidInput(f"legacy {backend} databases are not read; export to CSV",
                       {"url": ["sqlite or postgresql"]})


def safe_url(url: str) -> str:
    """The URL as stored in a run: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid URL)"


def _statement(query_or_table: str, limit: int | None) -> str:
    query = (query_or_table or "").strip().rstrip(";").strip()
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidInput("the limit is a positive whole number", {"limit": ["positive"]})
    if _TABLE_NAME.fullmatch(query):
        select = "SELECT * FROM " + ".".join(f'"{part}"' for part in query.split("."))
    elif re.match(r"select\b", query, re.IGNORECASE) and ";" not in query and "--" not in query \
            and "/*" not in query:
        select = query
    else:
        raise InvalidInput("give a table name or one SELECT statement",
                           {"query": ["only a table name or a single SELECT is read"]})
    return f"SELECT * FROM ({select}) AS legacy LIMIT :limit" if limit is not None else select


def _result_rows(result, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    rows, cells_read = [], 0
    while batch := result.fetchmany(1000):
        for values in batch:
            cells_read += len(values)
            if cells_read > MAX_CELLS:
                raise InvalidInput(f"the result has more than {MAX_CELLS:,} cells; use a limit or a narrower "
                                   "SELECT", {"query": ["too large"]})
            rows.append((len(rows) + 1, {c: cell_text(v) for c, v in zip(columns, values, strict=False)}))
    return rows

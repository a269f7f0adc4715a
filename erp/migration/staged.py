"""The staged rows an import takes, batch by batch (导入批次): read in id order and, for customers, made ready
for the write — crm's own rules applied and the name key worked out.

A large customer import does that a batch ahead in a second Python process (`python -m
erp.migration.staged`), which reads the committed staged rows through its own read-only connection while this
process writes the batch before: on a machine with two cores or more, decoding and checking 10^5 rows then
costs the import about nothing (it was about half of it). This process still decides every batch: it reads
the ids of the rows not yet imported and takes the second process's batch only when it holds exactly those
rows (another import of the same run may have taken some meanwhile); otherwise, or when the second process
cannot start, fails or goes silent, the rows are read and prepared here. The result is the same either way."""
from __future__ import annotations

import gc
import logging
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import make_url

from core import jsontext
from core.bulk import read_rows
from core.errors import InvalidInput
from erp.crm import services as crm
from erp.crm.models import Customer
from erp.crm.validation import company_name_key
from erp.migration.models import MigrationRow, not_imported

log = logging.getLogger(__name__)

#: from this many rows to import, a customer import prepares its batches a batch ahead in a second process
SECOND_PROCESS_FROM = 10_000
#: the rows a customer import prepares itself while its second process starts (importing the modules alone
#: takes it 0.7-0.8 s; this process imports about 5,000 rows in 0.2-0.35 s)
LEAD_ROWS = 15_000


class StagedRow(NamedTuple):
    id: int
    row_no: int
    values: dict


def next_rows(session, run_id: int, entity: str, size: int, *, after: int = 0) -> list[StagedRow]:
    """The next rows to import: no ORM objects or result rows for 10^5 rows, each value decoded once. Rows are
    imported in id order, so those up to `after` (the last of this import's previous batch) are done: starting
    the index scan there skips reading the rows imported before (a resumed import starts at 0 and skips
    them through their ImportedRow)."""
    query = _pending(select(MigrationRow.id, MigrationRow.row_no, MigrationRow.values), run_id, after)
    rows = _staged(session, query.limit(size))
    if entity != "sales_orders" or len(rows) < size:
        return rows
    # an order's lines never straddle two batches: take the rest of the lines of the orders begun here
    orders = {row.values.get("order_external_id") for row in rows}
    taken = {row.id for row in rows}
    rest = [row for row in _staged(session, query.where(MigrationRow.id > rows[-1].id))
            if row.values.get("order_external_id") in orders and row.id not in taken]
    return rows + rest


def _pending(query, run_id: int, after: int):
    return (query.where(MigrationRow.run_id == run_id, MigrationRow.status != "error", MigrationRow.id > after,
                        not_imported(after))
            .order_by(MigrationRow.id))


def _staged(session, query) -> list[StagedRow]:
    """The (id, row_no, values) rows as the driver returns them; values as JSON text (SQLite) are decoded here."""
    return [StagedRow(id, row_no, values if isinstance(values, dict) else jsontext.loads(values))
            for id, row_no, values in read_rows(session, query)]


def values_of(session, ids) -> dict[int, dict]:
    """{row id: values} of the staged rows `ids`."""
    ids = sorted(set(ids))
    query = select(MigrationRow.id, MigrationRow.row_no, MigrationRow.values)
    return {row.id: row.values for start in range(0, len(ids), 900)  # SQLite's bound-parameter limit
            for row in _staged(session, query.where(MigrationRow.id.in_(ids[start:start + 900])))}


# -- customers -------------------------------------------------------------------------------------------------

#: a new customer's columns as a batch writes them: these three are the batch's, NEW_COLUMNS the row's
BATCH_COLUMNS = ("code", "created_at", "created_by")
NEW_COLUMNS = tuple(c.key for c in Customer.__table__.columns if c.key != "id" and c.key not in BATCH_COLUMNS)
INSERT_COLUMNS = BATCH_COLUMNS + NEW_COLUMNS
#: a new customer's row before its values: crm's defaults, every other column empty. Its tags are one list
#: shared by every row without tags of their own (never changed in place: a merge replaces it), so the bulk
#: write serialises it once
_NEW_CUSTOMER = {**dict.fromkeys(NEW_COLUMNS), "tier": "C", "credit_limit": Decimal("0.00"),
                 "payment_terms_days": 30, "active": True, "tags": []}
_new_row = itemgetter(*NEW_COLUMNS)


class PreparedCustomer(NamedTuple):
    """A staged customer row made ready for the import: `new` is the customer it creates if its legacy id and
    tax number are not on file (NEW_COLUMNS, checked by crm's rules), or why it cannot be created."""

    id: int
    row_no: int
    external_id: str
    #: the file's own customer code (upper case), else None: the import gives the next C-number
    code: str | None
    #: the tax number as the file gives it, by which an existing customer is found
    tax_number: str | None
    new: tuple | InvalidInput


def customer_fields(values: dict) -> dict:
    """The staged values crm.create_customer and update_customer take."""
    # missing in the file: keep what the customer has, or the default
    fields = {name: value for name in crm.CUSTOMER_FIELDS if (value := values.get(name)) is not None}
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [t for t in fields["tags"].replace("，", ",").split(",") if t.strip()]
    terms = fields.get("payment_terms_days")
    if terms is not None and type(terms) is not int:  # staged as a whole number already, unless hand-edited
        fields["payment_terms_days"] = int(Decimal(str(terms)))
    return fields


def new_customer(fields: dict) -> tuple:
    """The NEW_COLUMNS of a customer created from `fields`, checked by crm's own rules (crm._customer_values);
    InvalidInput if they break one."""
    values = crm._customer_values(fields)
    return _new_row({**_NEW_CUSTOMER, **values, "name_key": company_name_key(values["name_zh"])})


def prepare_customers(rows: list[StagedRow]) -> list[PreparedCustomer]:
    prepared = []
    for row in rows:
        values = row.values
        fields = customer_fields(values)
        try:
            new = new_customer(fields)
        except InvalidInput as exc:
            new = exc
        code = values.get("code")
        prepared.append(PreparedCustomer(row.id, row.row_no, str(values["external_id"]),
                                         str(code).strip().upper() if code else None, fields.get("tax_number"),
                                         new))
    return prepared


class CustomerBatch(NamedTuple):
    rows: list[PreparedCustomer]
    #: {row id: values} of the given rows of the batch (for the few it updates or merges)
    values_of: Callable[[list[int]], dict[int, dict]]


class CustomerBatches:
    """The batches of one customer import, read and prepared here; for an import of SECOND_PROCESS_FROM rows or
    more, those after its first LEAD_ROWS rows are taken from a second process that prepares each while this
    one writes the one before. That process is started with the first batch and begins after these rows: its
    start takes about as long as this process takes to import them. Close the batches (or use them as a
    context manager) to stop it."""

    def __init__(self, url: str | None, run_id: int, size: int, *, total: int):
        self.url, self.run_id, self.size = url, run_id, size
        self.lead = -(-LEAD_ROWS // size) * size  # whole batches
        self.ahead_wanted = (url is not None and total >= SECOND_PROCESS_FROM and total > self.lead
                             and _has_file(url))
        self.after = 0
        self._ahead: _Ahead | None = None
        self._ahead_from = 0  # the id after which its batches begin

    def next(self, session) -> CustomerBatch | None:
        if self.ahead_wanted:  # once, before the first batch
            self.ahead_wanted = False
            lead = read_rows(session, _pending(select(MigrationRow.id), self.run_id, 0).limit(self.lead))
            if len(lead) == self.lead:
                self._ahead_from = lead[-1][0]
                self._ahead = _Ahead.start(self.url, self.run_id, self.size, after=self._ahead_from)
        batch = None
        if self._ahead is not None and self.after >= self._ahead_from:
            batch = self._from_ahead(session)
        if batch is None:
            rows = next_rows(session, self.run_id, "customers", self.size, after=self.after)
            if not rows:
                return None
            values = {row.id: row.values for row in rows}
            batch = CustomerBatch(prepare_customers(rows), lambda ids: {i: values[i] for i in ids})
        if batch.rows:
            self.after = batch.rows[-1].id
        return batch if batch.rows else None

    def _from_ahead(self, session) -> CustomerBatch | None:
        """The second process's next batch, if it holds exactly the rows not yet imported that come next."""
        ids = [row_id for row_id, in read_rows(session, _pending(select(MigrationRow.id), self.run_id, self.after)
                                               .limit(self.size))]
        rows = self._ahead.next()
        if rows is None or [row.id for row in rows] != ids:
            if rows is not None:
                log.warning("import of run %s: rows taken meanwhile by another import, read here", self.run_id)
            self.close()
            return None
        return CustomerBatch(rows, lambda wanted: values_of(session, wanted))

    def close(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.close()

    def __enter__(self) -> CustomerBatches:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _has_file(url: str) -> bool:
    """Whether a second process can open the database: anything but SQLite in memory."""
    parsed = make_url(url)
    return parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:")


class _Ahead:
    """The second process: told (url, run id, batch size, after) through its stdin, it writes each batch's
    prepared rows to its stdout, pickled, and an empty list at the end. A thread here unpickles them as they
    come, up to BUFFERED batches ahead of the import taking them: it runs while the import's thread is in the
    database driver's C code, which lets go of the GIL, and the second process goes on with the next batch
    instead of waiting for the pipe to be read."""

    #: batches unpickled and waiting (a batch of 5,000 customers: about 5 MB)
    BUFFERED = 2
    #: seconds without a batch after which it is given up (a batch takes it a fraction of a second)
    SILENT = 300

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.finished = False
        self._batches: queue.Queue = queue.Queue(maxsize=self.BUFFERED)
        self._receiver = threading.Thread(target=self._receive, name="import-ahead", daemon=True)
        # its stderr is read on another thread: a chatty failure must not fill that pipe and stall it
        self._errors: list[bytes] = []
        self._reader = threading.Thread(target=lambda: self._errors.append(process.stderr.read()),
                                        name="import-ahead-stderr", daemon=True)
        self._receiver.start()
        self._reader.start()

    @classmethod
    def start(cls, url: str, run_id: int, size: int, *, after: int) -> _Ahead | None:
        try:
            process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            log.warning("import of run %s: batches prepared here, no second process (%s)", run_id, exc)
            return None
        ahead = cls(process)
        try:
            with process.stdin:
                pickle.dump({"url": url, "run_id": run_id, "size": size, "after": after}, process.stdin,
                            pickle.HIGHEST_PROTOCOL)
        except OSError:  # it died at once: next() reports why
            pass
        return ahead

    def _receive(self) -> None:
        try:
            while True:
                # plain tuples through the pipe: unpickling a named tuple calls its __new__ in Python
                rows = list(map(PreparedCustomer._make, pickle.load(self.process.stdout)))  # noqa: S301 - written
                # by our own child process, through its pipe
                self._batches.put(rows)
                if not rows:
                    return
        except Exception as exc:  # noqa: BLE001 - whatever broke it, next() reports it
            self._batches.put(exc)

    def next(self) -> list[PreparedCustomer] | None:
        """Its next batch ([] at the end), or None if it failed or went silent (logged)."""
        try:
            rows = self._batches.get(timeout=self.SILENT)
        except queue.Empty:
            rows = TimeoutError(f"no batch for {self.SILENT} s")
        if isinstance(rows, Exception):  # the rows are read here instead
            self.close()
            log.warning("import: the second process preparing batches failed (%s), reading them here: %s", rows,
                        b"".join(self._errors).decode(errors="replace")[-2000:])
            return None
        self.finished = not rows
        return rows

    def close(self) -> None:
        """Reap it: once it has sent its last batch it is only closing its connection; else it is killed."""
        process = self.process
        if self.finished:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if process.poll() is None:
            process.kill()
        process.wait()
        while self._receiver.is_alive():  # it ends at the pipe's end; batches it still holds are dropped
            try:
                self._batches.get(timeout=0.1)
            except queue.Empty:
                pass
        self._receiver.join()
        self._reader.join()
        process.stdout.close()
        process.stderr.close()


def _serve() -> None:
    from core.db import Database

    gc.disable()  # a process for one bulk job: see core.bulk.collector_paused
    asked = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the parent process, through its pipe
    database = Database(asked["url"])
    after, out = asked["after"], sys.stdout.buffer
    try:
        while True:
            with database.transaction(readonly=True) as session:
                rows = next_rows(session, asked["run_id"], "customers", asked["size"], after=after)
            pickle.dump(list(map(tuple, prepare_customers(rows))), out, pickle.HIGHEST_PROTOCOL)
            out.flush()
            if not rows:
                return
            after = rows[-1].id
    finally:
        database.dispose()


if __name__ == "__main__":
    # as the module itself, not __main__: what it pickles must load as erp.migration.staged's
    from erp.migration.staged import _serve as serve

    serve()

"""The SQLite runner of the schema (sqlite-utils ``Migrations``): migrations applied in order, each in
its own transaction. ``PRAGMA user_version`` holds the number applied, so the common case (nothing to
do) costs one pragma read per command.

The 13 migrations written here are SQLite's frozen history (issue 19): they have shipped, never edit
them. Every later migration is written once, for both backends, in onestop/store/schema.py
(``SHARED``) and registered here after the history (``shared_0001`` is SQLite version 14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from onestop.store.sqlite import Database


class _Registry:
    """Collects migrations in order; the sqlite-utils ``Migrations`` set is built only when one is
    pending, so the common case never imports sqlite-utils (~50 ms at every command)."""

    def __init__(self, name: str):
        self.name = name
        self._migrations: list[tuple[str, Callable]] = []

    def __call__(self, *, name: str):
        def inner(fn):
            self._migrations.append((name, fn))
            return fn

        return inner

    def apply(self, db: "Database") -> None:
        from sqlite_utils.migrations import Migrations

        m = Migrations(self.name)
        for name, fn in self._migrations:
            m(name=name)(lambda su, fn=fn: fn(db))
        m.apply(db.su)


migrations = _Registry("onestop")


def run_script(db: Database, script: str) -> None:
    """Run a DDL script statement by statement: ``executescript`` would commit the
    surrounding transaction and break the migration's atomicity."""
    for stmt in script.split(";\n"):
        if stmt.strip() and not all(l.strip().startswith("--") or not l.strip() for l in stmt.splitlines()):
            db.conn.execute(stmt)


@migrations(name="0001_core")
def m0001_core(db: Database) -> None:
    run_script(db, 
        """
        CREATE TABLE procedures (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            search_text TEXT NOT NULL,          -- folded code + name + field, for diacritics-free search
            field_code TEXT NOT NULL DEFAULT '',
            field_name TEXT NOT NULL DEFAULT '',
            level TEXT NOT NULL DEFAULT '',
            publisher TEXT NOT NULL DEFAULT '',
            limits TEXT NOT NULL,               -- JSON {"<channel>": {"value": n, "unit": "working_days"}}
            fees TEXT NOT NULL DEFAULT '[]',    -- JSON [{"code","name","amount","unit"}]
            results TEXT NOT NULL DEFAULT '[]', -- JSON [{"code","name"}]
            next_day_after_cutoff INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT '',
            sample INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        CREATE TABLE procedure_components (
            procedure_code TEXT NOT NULL REFERENCES procedures(code) ON DELETE CASCADE,
            n INTEGER NOT NULL,
            code TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,
            case_name TEXT NOT NULL DEFAULT '',
            originals INTEGER NOT NULL DEFAULT 1,
            copies INTEGER NOT NULL DEFAULT 0,
            form_name TEXT NOT NULL DEFAULT '',
            form_url TEXT NOT NULL DEFAULT '',
            required INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (procedure_code, n)
        );
        CREATE TABLE code_sequences (
            agency TEXT NOT NULL, day TEXT NOT NULL, last INTEGER NOT NULL,
            PRIMARY KEY (agency, day)
        );
        CREATE TABLE book_sequences (
            agency TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,
            PRIMARY KEY (agency, year)
        );
        CREATE TABLE dossiers (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            agency TEXT NOT NULL,
            code_rule TEXT NOT NULL,
            procedure_code TEXT NOT NULL,
            procedure_name TEXT NOT NULL,
            field_code TEXT NOT NULL DEFAULT '',
            field_name TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL DEFAULT '1',
            applicant_type TEXT NOT NULL DEFAULT '1',
            applicant_name TEXT NOT NULL,
            id_type TEXT NOT NULL DEFAULT '',
            id_number TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            authorised_name TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            received_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            original_due_at TEXT NOT NULL,
            limit_value REAL NOT NULL,
            limit_unit TEXT NOT NULL,
            delivery TEXT NOT NULL DEFAULT '0',
            fees TEXT NOT NULL DEFAULT '[]',
            sets INTEGER NOT NULL DEFAULT 1,
            book_year INTEGER NOT NULL,
            book_no INTEGER NOT NULL,
            officer TEXT NOT NULL DEFAULT '',
            unit TEXT NOT NULL DEFAULT '',
            papers_requests INTEGER NOT NULL DEFAULT 0,
            rescheduled INTEGER NOT NULL DEFAULT 0,
            finished_at TEXT,                   -- first of result ready / returned / stopped / refused
            returned_at TEXT,
            receipt_path TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX dossiers_status ON dossiers(status, due_at);
        CREATE INDEX dossiers_received ON dossiers(received_at);
        CREATE INDEX dossiers_procedure ON dossiers(procedure_code);
        CREATE TABLE dossier_components (
            dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
            n INTEGER NOT NULL,
            code TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,
            originals INTEGER NOT NULL DEFAULT 1,
            copies INTEGER NOT NULL DEFAULT 0,
            pages INTEGER NOT NULL DEFAULT 0,
            received INTEGER NOT NULL DEFAULT 1,
            submission TEXT NOT NULL DEFAULT 'original', -- original / certified_copy / copy_shown / electronic
            digitized INTEGER NOT NULL DEFAULT 0,        -- 0 not, 1 digitized, 2 reused, 3 reused from another result
            PRIMARY KEY (dossier_id, n)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
            at TEXT NOT NULL,
            officer TEXT NOT NULL DEFAULT '',
            unit TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            status_from TEXT,
            status_to TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_dossier ON events(dossier_id, id);
        -- The sync outbox: written in the same transaction as the change it announces.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
            kind TEXT NOT NULL,                 -- create / update / step / file
            ref_id INTEGER,                     -- events.id for a step, the file row for a file
            created_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', -- pending / done / failed
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            done_at TEXT,
            remote_id TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX outbox_pending ON outbox(state, id);
        CREATE INDEX outbox_dossier ON outbox(dossier_id, id);
        -- Forms handed out without a dossier code: guidance for incomplete papers (02), refusals (03).
        CREATE TABLE counter_forms (
            id INTEGER PRIMARY KEY,
            form TEXT NOT NULL,
            at TEXT NOT NULL,
            procedure_code TEXT NOT NULL,
            applicant_name TEXT NOT NULL DEFAULT '',
            id_number TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            missing TEXT NOT NULL DEFAULT '[]',
            pdf_path TEXT NOT NULL DEFAULT '',
            officer TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE calendar_cache (
            key TEXT PRIMARY KEY,               -- years + config file fingerprint
            off_days TEXT NOT NULL,
            make_up_days TEXT NOT NULL
        );
        """
    )


@migrations(name="0002_archive")
def m0002_archive(db: Database) -> None:
    """The electronic archive: one row per stored component PDF, one per page, and the search index."""
    run_script(db,
        """
        -- One stored PDF per scan of a component. The sync reads this table (kind "file" in the outbox).
        CREATE TABLE archive_files (
            id INTEGER PRIMARY KEY,
            dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
            component_n INTEGER NOT NULL,
            path TEXT NOT NULL UNIQUE,          -- absolute path of the PDF in the archive
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            pages INTEGER NOT NULL,
            dpi INTEGER NOT NULL DEFAULT 0,     -- lowest page resolution; 0 = born-digital PDF
            colour INTEGER NOT NULL DEFAULT 0,  -- 1 when any page was kept in colour
            ocr TEXT NOT NULL DEFAULT 'tesseract', -- tesseract / embedded (PDF text kept)
            mean_confidence REAL,
            sources TEXT NOT NULL DEFAULT '[]', -- JSON list of the input file names, in order
            state TEXT NOT NULL DEFAULT 'current', -- current / replaced
            created_at TEXT NOT NULL,
            officer TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX archive_files_component ON archive_files(dossier_id, component_n, state);
        CREATE TABLE archive_pages (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES archive_files(id),
            n INTEGER NOT NULL,
            text TEXT NOT NULL DEFAULT '',      -- OCR (or embedded) text, NFC
            confidence REAL,                    -- tesseract mean word confidence 0-100; NULL for embedded text
            rotated INTEGER NOT NULL DEFAULT 0, -- degrees turned to make the page upright (0/90/180/270)
            deskew REAL NOT NULL DEFAULT 0,     -- further degrees of deskew
            dpi INTEGER NOT NULL DEFAULT 0,
            colour INTEGER NOT NULL DEFAULT 0,
            width INTEGER NOT NULL DEFAULT 0,
            height INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT '',
            UNIQUE (file_id, n)
        );
        -- Full-text index, folded by onestop.common.text.fold (diacritics and đ/Đ removed) before insertion.
        -- rowid = archive_pages.id for a page, -dossiers.id for a dossier's own fields.
        CREATE VIRTUAL TABLE search_fts USING fts5(
            body, kind UNINDEXED, dossier_id UNINDEXED,
            tokenize = "unicode61 remove_diacritics 2"
        );
        CREATE TABLE search_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE INDEX dossiers_updated ON dossiers(updated_at)
        """
    )


def ensure_current(db: Database) -> None:
    """Apply pending migrations; cheap when there are none."""
    target = len(migrations._migrations)
    if db.conn.execute("PRAGMA user_version").fetchone()[0] == target:
        return
    db.conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait on the busy timeout
    try:
        if db.conn.execute("PRAGMA user_version").fetchone()[0] != target:
            migrations.apply(db)
            db.conn.execute(f"PRAGMA user_version = {target}")
        db.conn.execute("COMMIT")
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise


@migrations(name="0003_sync")
def m0003_sync(db: Database) -> None:
    run_script(db,
        """
        -- One row per `onestop sync` run: what the operator reads in the morning.
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            target TEXT NOT NULL,               -- url / spool / dry-run / from-spool (no credentials)
            sent INTEGER NOT NULL DEFAULT 0,
            already INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            exit_code INTEGER,
            summary TEXT NOT NULL DEFAULT '{}'  -- JSON: counts by kind, failures by reason
        );
        -- What the ministry answered to each uploaded file (the record's TaiLieuNop points there).
        CREATE TABLE sync_files (
            file_id INTEGER PRIMARY KEY,        -- files.id of the archive
            sha256 TEXT NOT NULL,
            remote_id TEXT NOT NULL,            -- IdTepTin
            url TEXT NOT NULL,                  -- DuongDan
            uploaded_at TEXT NOT NULL
        );
        CREATE INDEX sync_files_sha ON sync_files(sha256);
        CREATE INDEX outbox_kind_pending ON outbox(kind, state, dossier_id)
        """
    )


@migrations(name="0004_reports")
def m0004_reports(db: Database) -> None:
    # Covering indexes for the supervisor figures (onestop/reports/figures.py): the backlog reads only the
    # open dossiers' index, the period report only ranges of the received/finished indexes.
    run_script(db,
        """
        CREATE INDEX dossiers_open ON dossiers(status, procedure_code, due_at, received_at, field_code, officer)
            WHERE status IN ('2','4','5','6');
        CREATE INDEX dossiers_received_cover ON dossiers(received_at, channel, procedure_code);
        CREATE INDEX dossiers_finished ON dossiers(finished_at, status, procedure_code, received_at, due_at,
            papers_requests, rescheduled) WHERE finished_at IS NOT NULL;
        CREATE INDEX outbox_create ON outbox(dossier_id, state) WHERE kind = 'create';
        CREATE INDEX dossier_components_digitized ON dossier_components(dossier_id, digitized);
        -- Who saw full ID and phone numbers in supervisor output (--show-personal), and when.
        CREATE TABLE personal_access (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            officer TEXT NOT NULL DEFAULT '',
            command TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )
        """
    )


@migrations(name="0005_procedure_cases_and_amend")
def m0005_procedure_cases_and_amend(db: Database) -> None:
    # The catalog case (TRUONGHOP) a dossier was received under, and for conditional papers
    # ("nếu có", "trường hợp bị mất") whether the officer marked them as applying (NULL: not conditional).
    run_script(db,
        """
        ALTER TABLE dossiers ADD COLUMN case_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE dossier_components ADD COLUMN applies INTEGER;
        CREATE INDEX dossiers_id_procedure ON dossiers(id_number, procedure_code, received_at)
        """
    )


@migrations(name="0006_sync_honest")
def m0006_sync_honest(db: Database) -> None:
    # Spooled is not synced (docs/sync.md): an entry written to a spool folder waits in its own state
    # ('spooled') until `onestop sync acks` brings the server's acknowledgement back. `failed_at`
    # says since when an entry is held for a fix; `sync_office` identifies this database in a spool,
    # so acknowledgements from another office's spool are refused.
    run_script(db,
        """
        ALTER TABLE outbox ADD COLUMN spooled_at TEXT;
        ALTER TABLE outbox ADD COLUMN failed_at TEXT;
        UPDATE outbox SET failed_at = created_at WHERE state = 'failed';
        CREATE INDEX outbox_spooled ON outbox(dossier_id) WHERE state = 'spooled';
        CREATE INDEX outbox_failed ON outbox(dossier_id) WHERE state = 'failed';
        CREATE TABLE sync_office (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            office_id TEXT NOT NULL,            -- random, written into every spool folder of this database
            created_at TEXT NOT NULL
        );
        INSERT INTO sync_office (id, office_id, created_at)
            VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        """
    )


@migrations(name="0007_archive_one_current")
def m0007_archive_one_current(db: Database) -> None:
    # One current file per component (per part: `scan --add` stores part 2, 3…), enforced by the
    # database, so two scans racing on one component cannot both commit (issue 8). Components that
    # already hold several current files (that race, before this migration) keep them all, as parts.
    run_script(db,
        """
        ALTER TABLE archive_files ADD COLUMN part INTEGER NOT NULL DEFAULT 1;
        UPDATE archive_files SET part = (
            SELECT count(*) FROM archive_files f WHERE f.dossier_id = archive_files.dossier_id
               AND f.component_n = archive_files.component_n AND f.state = 'current' AND f.id <= archive_files.id)
        WHERE state = 'current';
        CREATE UNIQUE INDEX archive_files_one_current ON archive_files(dossier_id, component_n, part)
            WHERE state = 'current'
        """
    )


@migrations(name="0008_home_identity")
def m0008_home_identity(db: Database) -> None:
    # Which data home and agency this database belongs to (onestop/store/home.py): a database restored
    # from another home or office must not issue codes. Filled at the first code issued.
    run_script(db,
        """
        CREATE TABLE office (
            key TEXT PRIMARY KEY,               -- home_id, agency
            value TEXT NOT NULL
        )
        """
    )


@migrations(name="0009_page_quality")
def m0009_page_quality(db: Database) -> None:
    # Per-page recognition quality (onestop/archive/quality.py): a page read badly is flagged at the counter
    # and recorded as needing a rescan; `check` and `backlog` list it while its file is current.
    run_script(db,
        """
        -- words read on the page; the share of them in the Vietnamese word list; the reasons it reads
        -- badly (low_confidence,unknown_words,empty); 1 while it waits for a rescan
        ALTER TABLE archive_pages ADD COLUMN words INTEGER;
        ALTER TABLE archive_pages ADD COLUMN dictionary REAL;
        ALTER TABLE archive_pages ADD COLUMN quality TEXT NOT NULL DEFAULT '';
        ALTER TABLE archive_pages ADD COLUMN needs_rescan INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX archive_pages_rescan ON archive_pages(file_id) WHERE needs_rescan = 1
        """
    )


@migrations(name="0010_document_numbers")
def m0010_document_numbers(db: Database) -> None:
    # The document number (số ký hiệu), date and issuer read from a component's first page
    # (onestop/archive/docnumbers.py); document_key is the number folded for exact search (1205/QD-BKHCN);
    # document_check says what the officer should verify when the reading was ambiguous.
    run_script(db,
        """
        ALTER TABLE dossier_components ADD COLUMN document_number TEXT;
        ALTER TABLE dossier_components ADD COLUMN document_key TEXT;
        ALTER TABLE dossier_components ADD COLUMN document_date TEXT;
        ALTER TABLE dossier_components ADD COLUMN issuer TEXT;
        ALTER TABLE dossier_components ADD COLUMN document_check TEXT NOT NULL DEFAULT '';
        CREATE INDEX dossier_components_document ON dossier_components(document_key) WHERE document_key IS NOT NULL
        """
    )


@migrations(name="0011_results")
def m0011_results(db: Database) -> None:
    # Issue 11. A signed electronic PDF is archived byte for byte (its signature stays valid); its
    # text layer goes to a separate OCR copy beside it, recorded here so `check` verifies it too.
    run_script(db,
        """
        ALTER TABLE archive_files ADD COLUMN ocr_copy TEXT;
        ALTER TABLE archive_files ADD COLUMN ocr_copy_sha256 TEXT;
        -- Result papers (`scan --result`) are archive files too, with component_n = -n for result n
        -- (onestop/archive/results.py) and the procedure's result code and name.
        ALTER TABLE archive_files ADD COLUMN result_code TEXT;
        ALTER TABLE archive_files ADD COLUMN result_name TEXT
        """
    )


@migrations(name="0012_document_confirmed")
def m0012_document_confirmed(db: Database) -> None:
    # A component's document number set or confirmed by the officer (`amend CODE --component N
    # --document-number …`): who and when. NULL while the number is only OCR's reading; a rescan
    # keeps the officer's values.
    run_script(db,
        """
        ALTER TABLE dossier_components ADD COLUMN document_confirmed_by TEXT;
        ALTER TABLE dossier_components ADD COLUMN document_confirmed_at TEXT
        """
    )


@migrations(name="0013_spool_trust")
def m0013_spool_trust(db: Database) -> None:
    # Issue 17. `secret` keys the MAC that seals every spool batch of this database (docs/sync.md,
    # "Trust"): it stays in the database, never on the stick. `unanswered` is 1 while a create may
    # have reached the server without its answer reaching us (sent, spooled, killed): only then is
    # a create answered "đã tồn tại" our own; on a first attempt it is another dossier's code.
    run_script(db,
        """
        ALTER TABLE sync_office ADD COLUMN secret TEXT NOT NULL DEFAULT '';
        UPDATE sync_office SET secret = lower(hex(randomblob(32)));
        ALTER TABLE outbox ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
        UPDATE outbox SET unanswered = 1 WHERE kind = 'create' AND (state = 'spooled' OR (state = 'pending' AND attempts > 0))
        """
    )


# ---------------------------------------------------------------- written once (onestop/store/schema.py)

HISTORY = len(migrations._migrations)  # 13: the frozen SQLite history above; the shared list follows


def _register_shared() -> None:
    from onestop.store import schema

    for m in schema.SHARED:  # rendered only when applied: every command imports this module (P1)
        migrations(name=m.name)(lambda db, m=m: run_script(db, schema.render(m, "sqlite")))


_register_shared()

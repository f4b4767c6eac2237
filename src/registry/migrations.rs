//! Schema migrations: each entry moves the registry one version up. They run,
//! in one transaction each, on every open; applied ones are skipped by
//! `PRAGMA user_version`. Never edit a released entry: add a new one.

use std::path::Path;

use rusqlite::Connection;

use super::Error;

const MIGRATIONS: &[&str] = &[
    // 1: people (K1, P5), their change history, and the import ledger.
    r#"
    CREATE TABLE people (
        id                  INTEGER PRIMARY KEY,
        -- K1: the registry's stable id, derived from the row id (never reused),
        -- so it costs no index to keep; look people up by id = number - 10000000.
        social_number       TEXT GENERATED ALWAYS AS (CAST(id + 10000000 AS TEXT)) VIRTUAL,
        tax_number          TEXT UNIQUE,               -- РНОКПП; NULL for people without one
        passport            TEXT UNIQUE,               -- booklet АВ123456 or ID card 9 digits
        surname             TEXT NOT NULL,
        given_name          TEXT NOT NULL,
        patronymic          TEXT,
        birth_date          TEXT NOT NULL,             -- YYYY-MM-DD
        sex                 TEXT NOT NULL CHECK (sex IN ('M', 'F')),
        phone               TEXT,                      -- E.164, +380…
        email               TEXT,
        community           TEXT NOT NULL,             -- КАТОТТГ code
        categories          TEXT NOT NULL,             -- category codes, comma-separated
        chosen_category     TEXT,                      -- P2: the applicant's explicit choice
        benefit_document    TEXT,
        benefit_valid_until TEXT,
        income_pension      INTEGER,                   -- kopecks a month
        income_salary       INTEGER,
        income_aid          INTEGER,
        income_total        INTEGER,                   -- when the sheet gives one figure
        documents           TEXT,                      -- documents handed in (P4), comma-separated
        photo               TEXT,                      -- file name under photos/
        application_date    TEXT,
        death_date          TEXT,
        fingerprint         TEXT NOT NULL,             -- hash of the fields above: unchanged rows are skipped
        revision            INTEGER NOT NULL DEFAULT 1,
        created_at          TEXT NOT NULL,             -- UTC
        updated_at          TEXT NOT NULL,
        source_file         TEXT,
        source_sheet        TEXT,
        source_row          INTEGER,
        CHECK (tax_number IS NOT NULL OR passport IS NOT NULL)
    );
    CREATE TABLE person_history (
        id           INTEGER PRIMARY KEY,
        person_id    INTEGER NOT NULL REFERENCES people(id),
        revision     INTEGER NOT NULL,                 -- the revision this change made
        field        TEXT NOT NULL,
        old_value    TEXT,
        new_value    TEXT,
        changed_at   TEXT NOT NULL,
        operator     TEXT NOT NULL,
        source_file  TEXT,
        source_sheet TEXT,
        source_row   INTEGER
    );
    CREATE INDEX person_history_person ON person_history(person_id);
    CREATE TABLE imports (
        id           INTEGER PRIMARY KEY,
        started_at   TEXT NOT NULL,
        finished_at  TEXT NOT NULL,
        operator     TEXT NOT NULL,
        file         TEXT NOT NULL,
        file_sha256  TEXT NOT NULL,
        read         INTEGER NOT NULL,
        inserted     INTEGER NOT NULL,
        updated      INTEGER NOT NULL,
        unchanged    INTEGER NOT NULL,
        rejected     INTEGER NOT NULL,
        warnings     INTEGER NOT NULL,
        rejects_file TEXT
    );
    "#,
    // 2: eligibility decisions (P1–P4): history, never overwritten; each
    // records the parameters it used and its rule trace.
    r#"
    CREATE TABLE decisions (
        id                INTEGER PRIMARY KEY,
        person_id         INTEGER NOT NULL REFERENCES people(id),
        person_revision   INTEGER NOT NULL,           -- the application revision decided
        decided_at        TEXT NOT NULL,              -- UTC
        as_of             TEXT NOT NULL,              -- the decision date (limits in force then)
        operator          TEXT NOT NULL,
        outcome           TEXT NOT NULL CHECK (outcome IN ('eligible', 'ineligible', 'incomplete')),
        category          TEXT,
        other_categories  TEXT,
        community         TEXT NOT NULL,              -- who pays for the trips (P18)
        valid_until       TEXT,                       -- the benefit's end (P9)
        reason_codes      TEXT NOT NULL,
        reasons_uk        TEXT NOT NULL,
        reasons_en        TEXT NOT NULL,
        missing_documents TEXT,
        parameters_id     INTEGER NOT NULL REFERENCES decision_parameters(id),
        trace             TEXT NOT NULL,              -- JSON: [[rule, value seen, passed], ...]
        decision_key      TEXT NOT NULL,              -- what makes two decisions the same
        supersedes        INTEGER REFERENCES decisions(id)
    );
    CREATE INDEX decisions_person ON decisions(person_id, id);
    -- The parameter values decisions used (limit, income rules, the category's
    -- settings), stored once per distinct set.
    CREATE TABLE decision_parameters (
        id         INTEGER PRIMARY KEY,
        parameters TEXT NOT NULL UNIQUE               -- JSON
    );
    "#,
    // 3: cards (P6–P10, P18). A card row holds what the card carries and is
    // never changed; its life is the card_events rows, appended only. The
    // current state is the latest event.
    r#"
    CREATE TABLE print_jobs (
        id          INTEGER PRIMARY KEY,
        created_at  TEXT NOT NULL,                  -- UTC
        operator    TEXT NOT NULL,
        folder      TEXT NOT NULL,
        cards       INTEGER NOT NULL
    );
    CREATE TABLE cards (
        id            INTEGER PRIMARY KEY,
        number        INTEGER NOT NULL UNIQUE,      -- P7: serial and Luhn digit, as on the chip
        person_id     INTEGER NOT NULL REFERENCES people(id),
        issue         INTEGER NOT NULL,             -- 1 for the person's first card, +1 for each next
        replaces      INTEGER REFERENCES cards(id), -- a reissue: the blocked card it replaces (P8)
        decision_id   INTEGER NOT NULL REFERENCES decisions(id),
        category      TEXT NOT NULL,
        community     TEXT NOT NULL,                -- КАТОТТГ code of the holder's community
        valid_from    TEXT NOT NULL,                -- YYYY-MM-DD, Kyiv date
        valid_to      TEXT NOT NULL,                -- inclusive
        fee_kopecks   INTEGER NOT NULL,             -- paid by the holder: 0 for a first card (P8)
        receipt       TEXT,                         -- the fee receipt of a reissue
        cost_kopecks  INTEGER NOT NULL,             -- what making the card costs
        cost_payer    TEXT NOT NULL,                -- community that pays it (P18): a partner, or the city
        created_at    TEXT NOT NULL,                -- UTC
        operator      TEXT NOT NULL,
        CHECK (replaces IS NULL OR receipt IS NOT NULL)
    );
    CREATE INDEX cards_person ON cards(person_id, id);
    CREATE UNIQUE INDEX cards_replaces ON cards(replaces) WHERE replaces IS NOT NULL;
    CREATE TABLE card_events (
        id          INTEGER PRIMARY KEY,
        card_id     INTEGER NOT NULL REFERENCES cards(id),
        state       TEXT NOT NULL CHECK (state IN ('issued', 'sent', 'printed', 'handed', 'blocked', 'expired')),
        reason      TEXT CHECK (reason IN ('lost', 'damaged', 'data-changed', 'death', 'holder-request',
                                           'benefit-ended', 'trip-limit')),
        at          TEXT NOT NULL,                  -- UTC: when it was recorded
        effective   TEXT NOT NULL,                  -- UTC: from when it counts (a decision's date, a death)
        operator    TEXT NOT NULL,
        print_job   INTEGER REFERENCES print_jobs(id),
        uid         TEXT,                           -- 'sent': the chip's UID the job encodes
        printed_name TEXT,                          -- 'sent': the full name printed on the card
        photo       TEXT,                           -- 'sent': the photo printed (photos/<name>)
        detail      TEXT,                           -- notes: a reprint, a receipt
        CHECK ((state = 'blocked') = (reason IS NOT NULL))
    );
    CREATE INDEX card_events_card ON card_events(card_id, id);
    CREATE INDEX card_events_uid ON card_events(uid) WHERE uid IS NOT NULL;
    CREATE TRIGGER cards_are_facts BEFORE UPDATE ON cards
        BEGIN SELECT RAISE(ABORT, 'cards are never changed: record a card event'); END;
    CREATE TRIGGER cards_stay BEFORE DELETE ON cards
        BEGIN SELECT RAISE(ABORT, 'cards are never deleted: block them'); END;
    CREATE TRIGGER card_events_are_history BEFORE UPDATE ON card_events
        BEGIN SELECT RAISE(ABORT, 'card events are history: append a new one'); END;
    CREATE TRIGGER card_events_stay BEFORE DELETE ON card_events
        BEGIN SELECT RAISE(ABORT, 'card events are history: append a new one'); END;
    -- Every blocklist published, for the dock (P8, P9).
    CREATE TABLE blocklists (
        version     INTEGER PRIMARY KEY,
        created_at  TEXT NOT NULL,
        operator    TEXT NOT NULL,
        cards       INTEGER NOT NULL,
        sha256      TEXT NOT NULL                   -- of the ascending card numbers
    );
    "#,
    // 4: the fleet (carriers, vehicles, validators), the tap ledger, dock
    // sessions and quarantine (issue 6). The taps themselves live in Parquet
    // under taps/; the registry says which files are the store and which
    // (validator, sequence) ranges it already holds.
    r#"
    ALTER TABLE blocklists ADD COLUMN body BLOB;    -- the .kbl bytes, pushed by the dock
    CREATE TABLE carriers (
        id          INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
        name        TEXT NOT NULL,
        edrpou      TEXT
    );
    CREATE TABLE vehicles (
        id          INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
        plate       TEXT,
        carrier     INTEGER NOT NULL REFERENCES carriers(id),
        routes      TEXT NOT NULL,                  -- route numbers, comma-separated; the first is the default
        zone        INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE validators (
        id          INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 65535),
        vehicle     INTEGER NOT NULL REFERENCES vehicles(id),
        settings_version INTEGER NOT NULL,          -- bumped whenever its settings change
        registered_at TEXT NOT NULL
    );
    CREATE TABLE fleet_imports (
        revision    INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        operator    TEXT NOT NULL,
        file        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        carriers    INTEGER NOT NULL,
        vehicles    INTEGER NOT NULL,
        validators  INTEGER NOT NULL
    );
    -- One row per ingest: a docking, a dump file, a vendor CSV.
    CREATE TABLE tap_batches (
        id          INTEGER PRIMARY KEY,
        source      TEXT NOT NULL,                  -- dock | dump | vendor-csv | generated
        file        TEXT,                           -- the raw dump or CSV kept
        sha256      TEXT NOT NULL,                  -- of that file's bytes
        validator   INTEGER,                        -- NULL for a CSV of many validators
        seq_first   INTEGER,
        seq_last    INTEGER,
        taps_new    INTEGER NOT NULL,
        taps_duplicate INTEGER NOT NULL,
        taps_rejected INTEGER NOT NULL,
        stored_at   TEXT NOT NULL,
        operator    TEXT NOT NULL
    );
    -- The (validator, sequence) runs the store holds: how a re-sent tap is
    -- recognised and never stored twice.
    CREATE TABLE tap_ranges (
        validator   INTEGER NOT NULL,
        seq_first   INTEGER NOT NULL,
        seq_last    INTEGER NOT NULL,
        batch       INTEGER NOT NULL REFERENCES tap_batches(id),
        PRIMARY KEY (validator, seq_first)
    ) WITHOUT ROWID;
    -- The Parquet files that make up the store. A file not listed here (a
    -- run killed between writing and committing) is not part of it.
    CREATE TABLE tap_files (
        id          INTEGER PRIMARY KEY,
        month       TEXT NOT NULL,                  -- YYYY-MM, Europe/Kyiv
        path        TEXT NOT NULL UNIQUE,           -- relative to the home
        rows        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        batch       INTEGER REFERENCES tap_batches(id),   -- NULL for a compacted file
        replaced_at TEXT                            -- set when compaction merged it away
    );
    CREATE INDEX tap_files_month ON tap_files(month) WHERE replaced_at IS NULL;
    CREATE TABLE dock_sessions (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL,
        port        TEXT NOT NULL,
        validator   INTEGER,
        firmware    TEXT,
        clock       TEXT,                           -- the validator's clock at hello, UTC
        drift_s     INTEGER,                        -- its clock minus ours
        clock_set   INTEGER NOT NULL DEFAULT 0,
        oldest      INTEGER,
        next        INTEGER,
        taps_new    INTEGER NOT NULL DEFAULT 0,
        taps_duplicate INTEGER NOT NULL DEFAULT 0,
        acked_up_to INTEGER,
        blocklist_from INTEGER,
        blocklist_to INTEGER,
        settings_from INTEGER,
        settings_to INTEGER,
        outcome     TEXT NOT NULL,                  -- ok | quarantined | failed: …
        finished_at TEXT NOT NULL
    );
    CREATE INDEX dock_sessions_validator ON dock_sessions(validator, id);
    CREATE TABLE quarantine (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        reason      TEXT NOT NULL,
        validator   INTEGER,
        port        TEXT,
        file        TEXT NOT NULL,                  -- relative to the home
        sha256      TEXT NOT NULL
    );
    "#,
    // 5: suspicious-tap flags (issue 7). The flags of a month live in
    // Parquet (flags/month=M/flags.parquet, replaced whole by each run);
    // the registry keeps each run and every clearing, which outlive runs.
    r#"
    CREATE TABLE flag_runs (
        id          INTEGER PRIMARY KEY,
        month       TEXT NOT NULL,                  -- YYYY-MM, Europe/Kyiv
        at          TEXT NOT NULL,
        operator    TEXT NOT NULL,
        taps        INTEGER NOT NULL,               -- accepted taps judged
        flagged     INTEGER NOT NULL,               -- taps with a flag
        held        INTEGER NOT NULL,               -- of those, not cleared
        held_kopecks INTEGER NOT NULL,
        file        TEXT NOT NULL,                  -- relative to the home
        sha256      TEXT NOT NULL,
        settings    TEXT NOT NULL                   -- JSON: the thresholds used
    );
    CREATE INDEX flag_runs_month ON flag_runs(month, id);
    -- A clearing says a flagged tap is to be paid: a false positive, for
    -- the rules it names (a rule that fires later holds the tap again).
    CREATE TABLE flag_clearings (
        id          INTEGER PRIMARY KEY,
        flag_id     TEXT NOT NULL,                  -- F-<validator>-<seq>
        validator   INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        rules       TEXT NOT NULL,                  -- rule codes, comma-separated
        at          TEXT NOT NULL,
        operator    TEXT NOT NULL,
        reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        source      TEXT NOT NULL                   -- 'command' or the review workbook's file
    );
    CREATE INDEX flag_clearings_tap ON flag_clearings(validator, seq);
    "#,
    // 6: accounts and the personal-data audit trail (issue 9, P20, P22, K5).
    // An account is an OS user's name with one role and, for carriers and
    // scoped analysts, the carriers and routes it may see.
    r#"
    CREATE TABLE accounts (
        user        TEXT PRIMARY KEY,
        role        TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'analyst', 'carrier', 'auditor')),
        carriers    TEXT NOT NULL DEFAULT '',       -- carrier ids, comma-separated; '' = all
        routes      TEXT NOT NULL DEFAULT '',       -- route codes, comma-separated; '' = all
        added_at    TEXT NOT NULL,
        added_by    TEXT NOT NULL
    );
    -- The audit trail: append-only, each entry chained to the one before
    -- by sha256 (crate::audit). `people` lists the social numbers the
    -- command showed or exported, comma-separated; audit_people indexes them.
    CREATE TABLE audit (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        user        TEXT NOT NULL,
        role        TEXT NOT NULL,
        command     TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        outcome     TEXT NOT NULL,                  -- 'shown', 'exported', 'changed', 'refused'
        people      TEXT NOT NULL,
        detail      TEXT NOT NULL,
        prev        TEXT NOT NULL,
        hash        TEXT NOT NULL
    );
    CREATE TABLE audit_people (
        entry       INTEGER NOT NULL REFERENCES audit(id),
        social_number TEXT NOT NULL
    );
    CREATE INDEX audit_people_person ON audit_people(social_number, entry);
    CREATE TRIGGER audit_is_history BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_stays BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_people_are_history BEFORE UPDATE ON audit_people
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_people_stay BEFORE DELETE ON audit_people
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    "#,
    r#"
    -- Taps kept out of the money because another tap holds their
    -- (validator, seq) (crate::taps::conflict): 'replaced', a vendor row a
    -- validator's signed tap replaced; 'refused', a signed tap that differs
    -- from a signed tap stored (not stored, never acked). kept_batch is the
    -- batch whose tap holds the number.
    CREATE TABLE tap_conflicts (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        validator   INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        tapped_at   TEXT NOT NULL,
        card        INTEGER NOT NULL,
        card_uid    TEXT NOT NULL,
        vehicle     INTEGER NOT NULL,
        route       INTEGER NOT NULL,
        zone        INTEGER NOT NULL,
        result      TEXT NOT NULL,
        carrier     INTEGER,
        source      TEXT NOT NULL,
        batch       INTEGER,
        kept_batch  INTEGER NOT NULL,
        UNIQUE (validator, seq, kind, tapped_at, card, card_uid, result)
    );
    -- The newest tap file a flag run saw: a live file of the month with a
    -- larger id came in (or replaced a file) after the run.
    ALTER TABLE flag_runs ADD COLUMN tap_file_max INTEGER;
    "#,
    r#"
    -- What clerks taught the intake (crate::intake::taught, `kartka vocab`):
    -- a text offices write for a category, a community or a column header,
    -- and the code or field it means. key is the text's matching key.
    CREATE TABLE vocabulary (
        kind        TEXT NOT NULL CHECK (kind IN ('category', 'community', 'header')),
        key         TEXT NOT NULL,
        written     TEXT NOT NULL,
        code        TEXT NOT NULL,
        by          TEXT NOT NULL,
        at          TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    "#,
    r#"
    -- An analyst's decision on a flagged tap's rules: 'clear' (a false
    -- positive, paid) or 'hold' (a case for review held: not paid). The
    -- latest decision on a tap's rule is the one that counts.
    ALTER TABLE flag_clearings ADD COLUMN decision TEXT NOT NULL DEFAULT 'clear'
        CHECK (decision IN ('clear', 'hold'));
    "#,
    r#"
    -- An analyst's decision that outlives one month's flags
    -- (crate::flags::decisions): a card's riding under a rule, a route
    -- pair that is a hub, a route's own service hours; in force for every
    -- month up to `until` (YYYY-MM), applied by each `taps flag` run.
    CREATE TABLE flag_decisions (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('card', 'hub', 'route_hours')),
        card        INTEGER,                        -- kind 'card': the card and the rule
        rule        TEXT,
        route_a     INTEGER,                        -- 'hub': the two routes; 'route_hours': the route
        route_b     INTEGER,
        start       TEXT,                           -- 'route_hours': HH:MM, Kyiv
        end         TEXT,
        until       TEXT NOT NULL,                  -- YYYY-MM, the last month it holds for
        at          TEXT NOT NULL,
        operator    TEXT NOT NULL,
        reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0)
    );
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn run(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let err = |e| Error::sqlite(path, e);
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if found > SCHEMA_VERSION {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(err)?;
        tx.commit().map_err(err)?;
    }
    Ok(())
}

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

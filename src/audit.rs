//! The personal-data audit trail (K5, P22): who looked at or exported whose
//! data, when, with which command and why.
//!
//! Append-only and tamper-evident: each entry's hash covers its fields and
//! the hash of the entry before it, so editing or deleting an entry breaks
//! every later link, and `verify` names the first broken one. Cutting off
//! the newest entries leaves a valid shorter chain; `verify --anchor
//! ID:HASH` (an anchor printed earlier, e.g. in a backup's manifest or a
//! monthly report) catches that.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::registry::{Error, Registry};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Personal data was shown on the screen.
    Shown,
    /// Personal data was written to a file.
    Exported,
    /// An account or a person's record was changed.
    Changed,
    /// The run was refused (77): the attempt is part of the record.
    Refused,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Shown => "shown",
            Outcome::Exported => "exported",
            Outcome::Changed => "changed",
            Outcome::Refused => "refused",
        }
    }
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub user: String,
    pub role: String,
    pub command: String,
    pub purpose: String,
    pub outcome: String,
    pub people: Vec<String>,
    pub detail: String,
    pub prev: String,
    pub hash: String,
}

/// What a new entry says; the time, id and links are added by `record`.
#[derive(Debug, Clone, Copy)]
pub struct New<'a> {
    pub user: &'a str,
    pub role: &'a str,
    pub command: &'a str,
    pub purpose: &'a str,
    pub outcome: Outcome,
    pub people: &'a [String],
    pub detail: &'a str,
}

impl Entry {
    fn digest(&self) -> String {
        // A JSON array: unambiguous whatever the fields contain.
        let canonical = serde_json::to_string(&(
            self.id,
            &self.at,
            &self.user,
            &self.role,
            &self.command,
            &self.purpose,
            &self.outcome,
            &self.people,
            &self.detail,
            &self.prev,
        ))
        .expect("strings serialise");
        crate::hash::sha256_hex(canonical.as_bytes())
    }
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Entry> {
    let people: String = r.get(7)?;
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        user: r.get(2)?,
        role: r.get(3)?,
        command: r.get(4)?,
        purpose: r.get(5)?,
        outcome: r.get(6)?,
        people: people
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        detail: r.get(8)?,
        prev: r.get(9)?,
        hash: r.get(10)?,
    })
}

const COLUMNS: &str = "id, at, user, role, command, purpose, outcome, people, detail, prev, hash";

/// Appends one entry, chained to the newest. Two runs appending at once are
/// serialised by SQLite's write lock (`BEGIN IMMEDIATE`).
pub fn record(reg: &mut Registry, new: New) -> Result<Entry, Error> {
    let path = reg.path().to_path_buf();
    let err = |e| Error::sqlite(&path, e);
    let tx = reg
        .conn_mut()
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(err)?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let mut people = new.people.to_vec();
    people.sort();
    people.dedup();
    let mut e = Entry {
        id,
        at: crate::time::now_utc_text(),
        user: new.user.into(),
        role: new.role.into(),
        command: new.command.into(),
        purpose: new.purpose.into(),
        outcome: new.outcome.code().into(),
        people,
        detail: new.detail.into(),
        prev,
        hash: String::new(),
    };
    e.hash = e.digest();
    tx.execute(
        &format!(
            "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            e.id,
            e.at,
            e.user,
            e.role,
            e.command,
            e.purpose,
            e.outcome,
            e.people.join(","),
            e.detail,
            e.prev,
            e.hash
        ],
    )
    .map_err(err)?;
    {
        let mut ins = tx
            .prepare("INSERT INTO audit_people (entry, social_number) VALUES (?1, ?2)")
            .map_err(err)?;
        for p in &e.people {
            ins.execute(params![e.id, p]).map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    Ok(e)
}

/// A link of the chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Broken {
    pub id: i64,
    pub what: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    pub entries: i64,
    /// The newest entry: `ID:HASH`, to keep as an anchor.
    pub head: Option<String>,
    pub broken: Vec<Broken>,
}

/// Walks the whole chain: every hash recomputed, every link checked, every
/// entry's people index compared; `anchor` (`ID:HASH`) must still be there.
pub fn verify(reg: &Registry, anchor: Option<(i64, &str)>) -> Result<Verified, Error> {
    let err = |e| reg.err(e);
    let mut st = reg
        .conn()
        .prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY id"))
        .map_err(err)?;
    let mut index: std::collections::HashMap<i64, Vec<String>> = Default::default();
    {
        let mut ix = reg
            .conn()
            .prepare("SELECT entry, social_number FROM audit_people ORDER BY entry, social_number")
            .map_err(err)?;
        let rows = ix
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        for row in rows {
            let (id, p) = row.map_err(err)?;
            index.entry(id).or_default().push(p);
        }
    }
    let rows = st.query_map([], from_row).map_err(err)?;
    let mut broken = Vec::new();
    let mut prev_hash = GENESIS.to_string();
    let mut prev_id = 0;
    let mut entries = 0;
    let mut anchor_seen = false;
    for row in rows {
        let e = row.map_err(err)?;
        entries += 1;
        if e.id != prev_id + 1 {
            broken.push(Broken {
                id: e.id,
                what: format!(
                    "entries {}..{} are missing (deleted)",
                    prev_id + 1,
                    e.id - 1
                ),
            });
        } else if e.prev != prev_hash {
            broken.push(Broken {
                id: e.id,
                what: "does not link to the entry before it (it or the one before was replaced)"
                    .into(),
            });
        }
        if e.digest() != e.hash {
            broken.push(Broken {
                id: e.id,
                what: "its content was edited after it was written".into(),
            });
        }
        let indexed = index.remove(&e.id).unwrap_or_default();
        if indexed != e.people {
            broken.push(Broken {
                id: e.id,
                what: "the people index does not match the entry (audit_people was edited)".into(),
            });
        }
        if let Some((id, hash)) = anchor
            && id == e.id
        {
            anchor_seen = true;
            if e.hash != hash {
                broken.push(Broken {
                    id,
                    what: format!("the anchor says {hash}, the entry's hash is {}", e.hash),
                });
            }
        }
        prev_hash = e.hash;
        prev_id = e.id;
    }
    for id in index.into_keys() {
        broken.push(Broken {
            id,
            what: "the people index names an entry that is gone".into(),
        });
    }
    if let Some((id, _)) = anchor
        && !anchor_seen
    {
        broken.push(Broken {
            id,
            what: format!(
                "the anchored entry is gone: the trail ends at {prev_id} (newest entries cut off)"
            ),
        });
    }
    broken.sort_by_key(|b| b.id);
    Ok(Verified {
        entries,
        head: (prev_id > 0).then(|| format!("{prev_id}:{prev_hash}")),
        broken,
    })
}

/// The entries naming one resident, oldest first (K5: who asked, and why).
pub fn person(reg: &Registry, social_number: &str) -> Result<Vec<Entry>, Error> {
    let err = |e| reg.err(e);
    let mut st = reg
        .conn()
        .prepare(&format!(
            "SELECT {} FROM audit WHERE id IN (SELECT entry FROM audit_people WHERE social_number = ?1) ORDER BY id",
            COLUMNS
        ))
        .map_err(err)?;
    let rows = st
        .query_map([social_number], from_row)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(rows)
}

/// Entries from `since` (UTC date text prefix compare), newest last; `user`
/// narrows to one operator.
pub fn log(reg: &Registry, since: Option<&str>, user: Option<&str>) -> Result<Vec<Entry>, Error> {
    let err = |e| reg.err(e);
    let mut st = reg
        .conn()
        .prepare(&format!(
            "SELECT {COLUMNS} FROM audit WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR user = ?2) ORDER BY id"
        ))
        .map_err(err)?;
    let rows = st
        .query_map(params![since, user], from_row)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(reg: &mut Registry, people: &[&str]) -> Entry {
        let people: Vec<String> = people.iter().map(|s| s.to_string()).collect();
        record(
            reg,
            New {
                user: "olena",
                role: "clerk",
                command: "cards show 10000001",
                purpose: "a call from the holder",
                outcome: Outcome::Shown,
                people: &people,
                detail: "",
            },
        )
        .unwrap()
    }

    /// A registry whose append-only triggers are dropped, as someone with
    /// the sqlite3 shell would do before tampering.
    fn reg() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&dir.path().join("registry.sqlite")).unwrap();
        reg.conn()
            .execute_batch(
                "DROP TRIGGER audit_is_history; DROP TRIGGER audit_stays;
                 DROP TRIGGER audit_people_are_history; DROP TRIGGER audit_people_stay;",
            )
            .unwrap();
        (dir, reg)
    }

    #[test]
    fn the_trail_refuses_plain_edits() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(&dir.path().join("registry.sqlite")).unwrap();
        add(&mut reg, &["10000001"]);
        let e = reg.conn().execute("DELETE FROM audit", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = reg
            .conn()
            .execute("UPDATE audit SET purpose = 'x'", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }

    #[test]
    fn a_chain_verifies_and_finds_a_person() {
        let (_d, mut reg) = reg();
        let a = add(&mut reg, &["10000002", "10000001"]);
        let b = add(&mut reg, &["10000003"]);
        assert_eq!(a.prev, GENESIS);
        assert_eq!(b.prev, a.hash);
        let v = verify(&reg, Some((1, &a.hash))).unwrap();
        assert_eq!(v.entries, 2);
        assert!(v.broken.is_empty(), "{:?}", v.broken);
        assert_eq!(v.head, Some(format!("2:{}", b.hash)));
        let p = person(&reg, "10000001").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].people, vec!["10000001", "10000002"]);
    }

    #[test]
    fn an_edit_a_deletion_and_a_cut_are_found() {
        let (_d, mut reg) = reg();
        for _ in 0..4 {
            add(&mut reg, &["10000001"]);
        }
        reg.conn()
            .execute("UPDATE audit SET purpose = 'curiosity' WHERE id = 2", [])
            .unwrap();
        let v = verify(&reg, None).unwrap();
        assert_eq!(v.broken.len(), 1, "{:?}", v.broken);
        assert_eq!(v.broken[0].id, 2);
        assert!(v.broken[0].what.contains("edited"));

        // Recomputing the edited entry's own hash still breaks the next link.
        let (_d2, mut reg) = self::reg();
        for _ in 0..4 {
            add(&mut reg, &["10000001"]);
        }
        reg.conn()
            .execute("DELETE FROM audit_people WHERE entry = 3", [])
            .unwrap();
        reg.conn()
            .execute("DELETE FROM audit WHERE id = 3", [])
            .unwrap();
        let v = verify(&reg, None).unwrap();
        assert_eq!(v.broken[0].id, 4);
        assert!(v.broken[0].what.contains("missing"), "{:?}", v.broken);

        // The newest entry cut off: only the anchor tells.
        let (_d3, mut reg) = self::reg();
        for _ in 0..4 {
            add(&mut reg, &["10000001"]);
        }
        let last = verify(&reg, None).unwrap().head.unwrap();
        let (lid, lhash) = last.split_once(':').unwrap();
        reg.conn()
            .execute("DELETE FROM audit_people WHERE entry = 4", [])
            .unwrap();
        reg.conn()
            .execute("DELETE FROM audit WHERE id = 4", [])
            .unwrap();
        assert!(verify(&reg, None).unwrap().broken.is_empty());
        let v = verify(&reg, Some((lid.parse().unwrap(), lhash))).unwrap();
        assert_eq!(v.broken.len(), 1);
        assert!(v.broken[0].what.contains("cut off"), "{:?}", v.broken);
    }

    #[test]
    fn a_hidden_person_is_found() {
        let (_d, mut reg) = reg();
        add(&mut reg, &["10000001"]);
        reg.conn()
            .execute(
                "DELETE FROM audit_people WHERE social_number = '10000001'",
                [],
            )
            .unwrap();
        let v = verify(&reg, None).unwrap();
        assert!(v.broken[0].what.contains("people index"), "{:?}", v.broken);
    }
}

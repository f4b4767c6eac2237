//! The blocklist (P8, P9): every blocked card still inside its validity, in
//! the dock protocol's form (a version and ascending u32 card numbers, sent
//! as `PutBlocklist` chunks), kept as a file the dock pushes, and as CSV for
//! people. A new version is published only when the list changes.
//!
//! File layout (`.kbl`, little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `KBLK` |
//! | 4 | format (1) |
//! | 5..8 | 0 |
//! | 8..12 | version |
//! | 12..16 | count |
//! | 16.. | count × card number (u32), strictly ascending |
//! | last 32 | SHA-256 of everything before |

use std::path::Path;

use chrono::NaiveDate;
use kartka_protocol::message::{BlocklistChunk, MAX_BLOCKLIST_CHUNK};
use rusqlite::params;
use sha2::{Digest, Sha256};

use super::Error;
use super::lifecycle::Reason;
use crate::registry::Registry;

const MAGIC: &[u8; 4] = b"KBLK";
const FORMAT: u8 = 1;
const HEADER: usize = 16;

/// One published blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocklist {
    pub version: u32,
    /// Ascending, no repeats.
    pub cards: Vec<u32>,
}

impl Blocklist {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER + 4 * self.cards.len() + 32);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&[FORMAT, 0, 0, 0]);
        b.extend_from_slice(&self.version.to_le_bytes());
        b.extend_from_slice(&(self.cards.len() as u32).to_le_bytes());
        for c in &self.cards {
            b.extend_from_slice(&c.to_le_bytes());
        }
        let hash = Sha256::digest(&b);
        b.extend_from_slice(&hash);
        b
    }

    /// Reads a `.kbl` file's bytes, checking everything.
    pub fn from_bytes(b: &[u8]) -> Result<Blocklist, String> {
        if b.len() < HEADER + 32 || &b[0..4] != MAGIC {
            return Err("not a kartka blocklist (no KBLK header)".into());
        }
        if b[4] != FORMAT {
            return Err(format!(
                "blocklist format {} is newer than this kartka knows ({FORMAT})",
                b[4]
            ));
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let version = u32_at(8);
        let count = u32_at(12) as usize;
        let body = HEADER
            .checked_add(count.checked_mul(4).ok_or("count too large")?)
            .ok_or("count too large")?;
        if b.len() != body + 32 {
            return Err(format!(
                "the file is {} bytes; a list of {count} cards takes {}",
                b.len(),
                body + 32
            ));
        }
        if Sha256::digest(&b[..body]).as_slice() != &b[body..] {
            return Err("the checksum does not match: the file is damaged".into());
        }
        let cards: Vec<u32> = (0..count).map(|i| u32_at(HEADER + 4 * i)).collect();
        if cards.windows(2).any(|w| w[0] >= w[1]) {
            return Err("the card numbers are not strictly ascending".into());
        }
        Ok(Blocklist { version, cards })
    }

    /// The card bytes of each protocol chunk the dock sends, in order; an
    /// empty list is one empty chunk.
    pub fn chunk_bytes(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .cards
            .chunks(MAX_BLOCKLIST_CHUNK)
            .map(|c| c.iter().flat_map(|n| n.to_le_bytes()).collect())
            .collect();
        if out.is_empty() {
            out.push(Vec::new());
        }
        out
    }

    /// Chunk `i` of `all` (from [`Blocklist::chunk_bytes`]) as the protocol
    /// message.
    pub fn message<'a>(&self, i: usize, all: &'a [Vec<u8>]) -> BlocklistChunk<'a> {
        BlocklistChunk {
            version: self.version,
            chunk: i as u16,
            chunks: all.len() as u16,
            total: self.cards.len() as u32,
            cards: &all[i],
        }
    }

    fn digest(cards: &[u32]) -> String {
        let mut h = Sha256::new();
        for c in cards {
            h.update(c.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One blocked card, for the CSV.
#[derive(Debug, Clone)]
pub struct Entry {
    pub number: u32,
    pub blocked_at: String,
    pub reason: Reason,
    pub valid_to: String,
}

/// What `kartka cards blocklist` published.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub version: u32,
    pub cards: usize,
    /// Whether this run made a new version (the list changed).
    pub new_version: bool,
    pub file: String,
    pub csv: String,
    /// The automatic stops made first (deaths, ended rights, expiry).
    #[serde(skip)]
    pub enforced: super::store::Enforced,
}

/// The current list: blocked cards in force now, not past their last day.
fn current(reg: &Registry, today: NaiveDate) -> Result<Vec<Entry>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let now = crate::time::now_utc_text();
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT c.number, e.effective, e.reason, c.valid_to FROM cards c \
             JOIN card_events e ON e.id = (SELECT max(x.id) FROM card_events x WHERE x.card_id = c.id) \
             WHERE e.state = 'blocked' AND e.effective <= ?1 AND c.valid_to >= ?2 ORDER BY c.number",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map(params![now, today.to_string()], |r| {
            Ok(Entry {
                number: r.get::<_, i64>(0)? as u32,
                blocked_at: r.get(1)?,
                reason: Reason::from_code(&r.get::<_, String>(2)?).unwrap_or(Reason::HolderRequest),
                valid_to: r.get(3)?,
            })
        })
        .map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// Publishes the blocklist, after the automatic stops that are due (P9):
/// a new version if it changed, written to `out` (the `.kbl` file) and
/// beside it as `.csv`.
pub fn publish(
    reg: &mut Registry,
    today: NaiveDate,
    operator: &str,
    out: &Path,
    lang: crate::lang::Lang,
) -> Result<Published, Error> {
    // The stops that are due go on the list first (P9).
    let enforced = super::store::enforce_now(reg, today, operator)?;
    let entries = current(reg, today)?;
    let cards: Vec<u32> = entries.iter().map(|e| e.number).collect();
    let digest = Blocklist::digest(&cards);
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let last: Option<(u32, String)> = tx
        .query_row(
            "SELECT version, sha256 FROM blocklists ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(err)?;
    let (version, new_version) = match last {
        Some((v, d)) if d == digest => (v, false),
        Some((v, _)) => (v + 1, true),
        None => (1, true),
    };
    let list = Blocklist { version, cards };
    if new_version {
        tx.execute(
            "INSERT INTO blocklists (version, created_at, operator, cards, sha256, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![version, crate::time::now_utc_text(), operator, list.cards.len() as i64, digest, list.to_bytes()],
        )
        .map_err(err)?;
    }
    let csv_path = out.with_extension("csv");
    write_atomic(out, &list.to_bytes())?;
    write_atomic(&csv_path, &csv_bytes(&entries, lang))?;
    tx.commit().map_err(err)?;
    Ok(Published {
        version,
        cards: list.cards.len(),
        new_version,
        file: out.display().to_string(),
        csv: csv_path.display().to_string(),
        enforced,
    })
}

fn csv_bytes(entries: &[Entry], lang: crate::lang::Lang) -> Vec<u8> {
    use crate::lang::Lang;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let header = match lang {
        Lang::Uk => ["Номер картки", "Заблоковано з", "Причина", "Дійсна до"],
        Lang::En => ["card", "blocked_from", "reason", "valid_to"],
    };
    w.write_record(header).expect("in memory");
    for e in entries {
        w.write_record(crate::text::csv_row([
            e.number.to_string(),
            crate::time::stored_as_kyiv(&e.blocked_at),
            match lang {
                Lang::Uk => e.reason.uk().to_string(),
                Lang::En => e.reason.code().to_string(),
            },
            e.valid_to.clone(),
        ]))
        .expect("in memory");
    }
    w.into_inner().expect("in memory")
}

/// The newest published blocklist, as the dock pushes it; `None` before
/// the first `kartka cards blocklist`.
pub fn latest(reg: &Registry) -> Result<Option<Blocklist>, Error> {
    let err = Error::sql(reg.path());
    let row: Option<(u32, Option<Vec<u8>>)> = reg
        .conn()
        .query_row(
            "SELECT version, body FROM blocklists ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(err)?;
    match row {
        None => Ok(None),
        Some((version, Some(body))) => {
            Blocklist::from_bytes(&body)
                .map(Some)
                .map_err(|why| Error::Output {
                    path: reg.path().to_path_buf(),
                    detail: format!(
                        "blocklist version {version} in the registry is damaged: {why}"
                    ),
                })
        }
        // Published before the registry kept the body: publish again.
        Some((_, None)) => Ok(None),
    }
}

/// Writes through `private::NewFile` (created new beside the target,
/// renamed into place), so a reader never sees half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = Error::output(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    crate::private::write_mode(path, bytes, crate::private::Mode::Public).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_list_round_trips_and_splits_into_protocol_chunks() {
        let list = Blocklist {
            version: 7,
            cards: (0..450).map(|i| 1_000_000_008 + 10 * i).collect(),
        };
        let bytes = list.to_bytes();
        assert_eq!(bytes.len(), 16 + 450 * 4 + 32);
        assert_eq!(Blocklist::from_bytes(&bytes).unwrap(), list);
        let all = list.chunk_bytes();
        assert_eq!(all.len(), 3);
        let messages: Vec<_> = (0..all.len()).map(|i| list.message(i, &all)).collect();
        assert!(
            messages
                .iter()
                .all(|c| c.chunks == 3 && c.total == 450 && c.version == 7)
        );
        assert_eq!(messages[2].chunk, 2);
        assert_eq!(messages[2].cards.len(), 50 * 4);
        let back: Vec<u32> = messages
            .iter()
            .flat_map(|m| {
                m.cards
                    .chunks(4)
                    .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            })
            .collect();
        assert_eq!(back, list.cards);
    }

    #[test]
    fn an_empty_list_is_still_one_chunk() {
        let list = Blocklist {
            version: 1,
            cards: vec![],
        };
        assert_eq!(list.chunk_bytes().len(), 1);
        assert_eq!(Blocklist::from_bytes(&list.to_bytes()).unwrap(), list);
    }

    #[test]
    fn damage_is_named() {
        let list = Blocklist {
            version: 2,
            cards: vec![5, 9],
        };
        let mut b = list.to_bytes();
        b[17] ^= 1;
        assert!(Blocklist::from_bytes(&b).unwrap_err().contains("damaged"));
        let b = list.to_bytes();
        assert!(
            Blocklist::from_bytes(&b[..b.len() - 1])
                .unwrap_err()
                .contains("bytes")
        );
        assert!(
            Blocklist::from_bytes(b"hello")
                .unwrap_err()
                .contains("KBLK")
        );
    }

    proptest! {
        #[test]
        fn reading_any_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Blocklist::from_bytes(&b);
        }

        #[test]
        fn reading_a_corrupted_list_never_panics(cards in proptest::collection::btree_set(any::<u32>(), 0..50), at in any::<usize>(), bit in 0u8..8) {
            let list = Blocklist { version: 3, cards: cards.into_iter().collect() };
            let mut b = list.to_bytes();
            let i = at % b.len();
            b[i] ^= 1 << bit;
            prop_assert!(Blocklist::from_bytes(&b).is_err());
        }
    }
}

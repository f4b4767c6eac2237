//! Print jobs (P6, P7): `kartka cards print-job --out DIR` writes, for every
//! card issued and not yet sent to print, a folder the card printer's
//! software imports as one batch:
//!
//! - `cards.csv`: one row per card, UTF-8 with BOM, the data source a card
//!   design program maps to its template;
//! - `photos/NUMBER.jpg`: the photo cropped and sized for the photo area
//!   at 300 dpi;
//! - `barcodes/NUMBER.png`: Code 128 of the number, 1-bit, whole-dot bars;
//! - `proof.pdf`: every card's front and back at true size;
//! - `encoding.json`: the chip images with the card's derived keys.
//!
//! Then the cards are "sent". Nothing changes state unless every file was
//! written.

pub mod barcode;
pub mod encoding;
pub mod photo;
pub mod proof;
pub mod uids;

use std::collections::HashSet;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use kartka_protocol::card::transport::TransportApp;
use rusqlite::params;

use super::lifecycle::{self, Move, State};
use super::store::{EventInfo, append_event};
use super::{CardNumber, Enforced, Error, keyfile};
use crate::config::Config;
use crate::home::Home;
use crate::lang::Lang;
use crate::registry::Registry;

/// The placeholder design `kartka init` puts in a new home.
pub const PLACEHOLDER_ARMS: &[u8] = include_bytes!("../../../assets/design/arms.png");
pub const PLACEHOLDER_PICTURE: &[u8] = include_bytes!("../../../assets/design/picture.jpg");

pub struct Options {
    pub out: PathBuf,
    pub uids: PathBuf,
    /// Cards to print again (sent or printed before).
    pub reprint: Vec<CardNumber>,
    /// At most this many cards in the job.
    pub limit: Option<usize>,
    pub lang: Lang,
    pub today: NaiveDate,
}

/// A card left out of the job, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeldBack {
    pub number: String,
    pub why: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobSummary {
    /// None when there was nothing to print (no folder is written).
    pub job: Option<i64>,
    pub folder: Option<String>,
    pub cards: Vec<String>,
    pub held_back: Vec<HeldBack>,
    /// UIDs in the list skipped because earlier jobs used them.
    pub uids_used_before: usize,
    /// The design images are still kartka's placeholders.
    pub placeholder_design: bool,
    pub enforced: Enforced,
}

/// A card to print, as read from the registry.
struct Pending {
    id: i64,
    number: CardNumber,
    reprint: bool,
    issue: i64,
    category: String,
    community: String,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    surname: String,
    given_name: String,
    patronymic: Option<String>,
    full_name: String,
    photo: Option<String>,
    /// The holder's social number: who the audit entry names.
    social_number: String,
}

fn pending(
    conn: &rusqlite::Connection,
    clause: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.number, c.issue, c.category, c.community, c.valid_from, c.valid_to, p.surname, \
         p.given_name, p.patronymic, p.surname || ' ' || p.given_name || coalesce(' ' || p.patronymic, ''), p.photo, p.social_number \
         FROM cards c JOIN people p ON p.id = c.person_id {clause} ORDER BY c.number"
    ))?;
    let date = |s: String| NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
    let rows = stmt.query_map(args, |r| {
        Ok(Pending {
            id: r.get(0)?,
            number: u32::try_from(r.get::<_, i64>(1)?)
                .ok()
                .and_then(CardNumber::from_u32)
                .ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(1, 0))?,
            reprint: false,
            issue: r.get(2)?,
            category: r.get(3)?,
            community: r.get(4)?,
            valid_from: date(r.get(5)?),
            valid_to: date(r.get(6)?),
            surname: r.get(7)?,
            given_name: r.get(8)?,
            patronymic: r.get(9)?,
            full_name: r.get(10)?,
            photo: r.get(11)?,
            social_number: r.get(12)?,
        })
    })?;
    rows.collect()
}

/// The transport application a card is encoded with: its number,
/// category and community as indices in kartka.toml's lists, validity in
/// days, issue number, and the category's monthly trip limit (P9, counted
/// on the card; a limit over 255 a month is no limit a card can hold).
/// `None` when kartka.toml does not list its category or community.
fn app_of(
    config: &Config,
    number: CardNumber,
    category: &str,
    community: &str,
    (valid_from, valid_to): (NaiveDate, NaiveDate),
    issue: i64,
) -> Option<TransportApp> {
    Some(TransportApp {
        layout: kartka_protocol::card::transport::LAYOUT_VERSION,
        card: number.value(),
        category: config.category_index(category)?,
        community: config.community_index(community)?,
        valid_from: days(valid_from),
        valid_to: days(valid_to),
        issue: issue.clamp(1, 255) as u8,
        trip_limit: config
            .flags
            .trip_limit(category)
            .map_or(0, |n| n.min(255) as u8),
    })
}

/// The transport application of a card of the registry (`cards image`).
pub(crate) fn transport_app(config: &Config, card: &super::Card) -> Option<TransportApp> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    app_of(
        config,
        CardNumber::parse(&card.number).ok()?,
        &card.category,
        &card.community,
        (date(&card.valid_from)?, date(&card.valid_to)?),
        card.issue,
    )
}

fn days(d: NaiveDate) -> u16 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    (d - epoch).num_days().clamp(0, i64::from(u16::MAX)) as u16
}

/// A card with everything the files need.
struct Ready {
    card: Pending,
    app: TransportApp,
    photo_jpeg: Vec<u8>,
    uid: uids::Uid,
}

/// Makes a print job. See the module documentation.
///
/// The job in its durable order: (1) one transaction applies the
/// automatic stops, picks the cards and records the job; (2) the audit
/// trail records the export of the holders' names and photos (K5), before
/// they leave; (3) the folder is written under a temporary name and
/// renamed into place, so the printer never sees half a batch; (4) one
/// transaction records the cards as sent. A failure before (4) changes no
/// card (the job's row is removed); a crash between (2) and (3) leaves the
/// audit entry, which names every holder the folder would have held.
pub fn run(
    home: &Home,
    config: &Config,
    opts: &Options,
    session: &crate::access::Session,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<JobSummary, Error> {
    let operator = session.user.as_str();
    out_is_free(&opts.out)?;
    let key = keyfile::read(&home.root().join(&config.cards.key_file))?;
    let read_design = |rel: &Path| -> Result<(Vec<u8>, PathBuf), Error> {
        let path = home.root().join(rel);
        std::fs::read(&path)
            .map(|b| (b, path.clone()))
            .map_err(|e| Error::Design {
                path,
                why: format!("cannot read it ({e})"),
            })
    };
    let (arms_bytes, arms_path) = read_design(&config.cards.arms)?;
    let (picture_bytes, picture_path) = read_design(&config.cards.picture)?;
    let stock = uids::read(&opts.uids)?;

    let mut reg = Registry::open(&home.registry())?;
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let mut summary = JobSummary {
        enforced: super::enforce(&tx, opts.today, operator).map_err(err)?,
        placeholder_design: arms_bytes == PLACEHOLDER_ARMS || picture_bytes == PLACEHOLDER_PICTURE,
        ..Default::default()
    };
    let mut cards = pending(
        &tx,
        "WHERE (SELECT x.state FROM card_events x WHERE x.card_id = c.id ORDER BY x.id DESC LIMIT 1) = 'issued'",
        [],
    )
    .map_err(err)?;
    for &number in &opts.reprint {
        let card = super::store::card_state(&tx, number, &path)?;
        lifecycle::apply(card, Move::Send { reprint: true }).map_err(|why| Error::Refused {
            number: number.to_string(),
            why,
        })?;
        if card == State::Issued {
            continue; // already in the job
        }
        let mut p =
            pending(&tx, "WHERE c.number = ?1", [i64::from(number.value())]).map_err(err)?;
        p.iter_mut().for_each(|c| c.reprint = true);
        cards.extend(p);
    }

    // Which cards can go: a photo, a known category and community.
    let mut candidates = Vec::new();
    for card in cards {
        let hold = |why: String| HeldBack {
            number: card.number.to_string(),
            why,
        };
        let Some(app) = app_of(
            config,
            card.number,
            &card.category,
            &card.community,
            (card.valid_from, card.valid_to),
            card.issue,
        ) else {
            summary.held_back.push(hold(format!(
                "category {:?} or community {:?} is not in kartka.toml",
                card.category, card.community
            )));
            continue;
        };
        let Some(photo) = card.photo.clone() else {
            summary.held_back.push(hold(
                "no photo in the registry: import the application again with its photo".into(),
            ));
            continue;
        };
        candidates.push((card, app, home.photos().join(photo)));
    }
    if let Some(limit) = opts.limit {
        for (card, _, _) in candidates.drain(limit.min(candidates.len())..) {
            summary.held_back.push(HeldBack {
                number: card.number.to_string(),
                why: format!("over --limit {limit}: it goes in a later job"),
            });
        }
    }

    // Photos, in parallel: the slow part.
    let total = candidates.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let photos = parallel_map(&candidates, |(_, _, photo_path)| {
        let r = std::fs::read(photo_path)
            .map_err(|e| format!("photo {} cannot be read ({e})", photo_path.display()))
            .and_then(|b| photo::card_photo(&b));
        progress(
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            total,
        );
        r
    });

    // UIDs from the stock that no earlier job used, in list order.
    let used: HashSet<String> = {
        let mut stmt = tx
            .prepare("SELECT DISTINCT uid FROM card_events WHERE uid IS NOT NULL")
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)?
    };
    let (before, unused): (Vec<uids::Uid>, Vec<uids::Uid>) =
        stock.into_iter().partition(|u| used.contains(&u.hex()));
    summary.uids_used_before = before.len();
    let mut fresh = unused.into_iter();
    let mut ready = Vec::new();
    for ((card, app, _), photo) in candidates.into_iter().zip(photos) {
        let number = card.number.to_string();
        match photo {
            Err(why) => summary.held_back.push(HeldBack { number, why }),
            Ok(photo_jpeg) => match fresh.next() {
                Some(uid) => ready.push(Ready {
                    card,
                    app,
                    photo_jpeg,
                    uid,
                }),
                None => summary.held_back.push(HeldBack {
                    number,
                    why: format!(
                        "no unused UID left in {}: add the next box's UIDs",
                        opts.uids.display()
                    ),
                }),
            },
        }
    }
    if ready.is_empty() {
        tx.commit().map_err(err)?; // the enforced blocks stand
        return Ok(summary);
    }

    let design = proof::Design {
        arms: proof::PdfImage::fitted(&arms_bytes, proof::Design::arms_box()).map_err(|why| {
            Error::Design {
                path: arms_path,
                why,
            }
        })?,
        picture: proof::PdfImage::filling(&picture_bytes, proof::Design::picture_box()).map_err(
            |why| Error::Design {
                path: picture_path,
                why,
            },
        )?,
        title: config.cards.title.clone(),
        city: config.city.name.clone(),
    };
    tx.execute(
        "INSERT INTO print_jobs (created_at, operator, folder, cards) VALUES (?1, ?2, ?3, ?4)",
        params![
            crate::time::now_utc_text(),
            operator,
            opts.out.display().to_string(),
            ready.len() as i64
        ],
    )
    .map_err(err)?;
    let job = tx.last_insert_rowid();
    tx.commit().map_err(err)?;
    let people: Vec<String> = ready.iter().map(|r| r.card.social_number.clone()).collect();
    let folder = opts.out.display().to_string();
    let sent = session
        .record(
            &mut reg,
            crate::audit::Outcome::Exported,
            &people,
            &format!("print job → {folder}"),
        )
        .map_err(Error::from)
        .and_then(|()| write_folder(&opts.out, config, &design, &ready, &key, job, opts.lang))
        .and_then(|()| record_sent(&mut reg, &ready, job, operator));
    if let Err(e) = sent {
        // No card changed state: the job did not happen.
        let _ = reg
            .conn()
            .execute("DELETE FROM print_jobs WHERE id = ?1", [job]);
        return Err(e);
    }
    summary.job = Some(job);
    summary.folder = Some(folder);
    summary.cards = ready.iter().map(|r| r.card.number.to_string()).collect();
    Ok(summary)
}

/// Step (4): the cards of the job as sent, with the UID each carries.
fn record_sent(reg: &mut Registry, ready: &[Ready], job: i64, operator: &str) -> Result<(), Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    for r in ready {
        append_event(
            &tx,
            r.card.id,
            State::Sent,
            operator,
            EventInfo {
                print_job: Some(job),
                uid: Some(&r.uid.hex()),
                printed_name: Some(&r.card.full_name),
                photo: r.card.photo.as_deref(),
                detail: r.card.reprint.then(|| "reprint".to_string()),
                ..Default::default()
            },
        )
        .map_err(err)?;
    }
    tx.commit().map_err(err)
}

/// Runs `f` over `items` on every core, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a photo worker panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::private::write(path, bytes).map_err(Error::output(path))
}

/// A print job needs a folder of its own: `out` is new or empty.
fn out_is_free(out: &Path) -> Result<(), Error> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(Error::output(out))?
            .next()
            .is_some()
    {
        return Err(Error::Output {
            path: out.to_path_buf(),
            detail:
                "the folder is not empty; a print job needs a folder of its own (give a new --out)"
                    .into(),
        });
    }
    Ok(())
}

fn write_folder(
    out: &Path,
    config: &Config,
    design: &proof::Design,
    ready: &[Ready],
    key: &kartka_protocol::card::keys::MasterKey,
    job: i64,
    lang: Lang,
) -> Result<(), Error> {
    let fail = Error::output(out);
    out_is_free(out)?;
    // Everything is written into a staging folder made new beside `out`
    // (mode 0700), renamed into place at the end: the printer software
    // never sees half a batch, and a killed job's folder is swept by the
    // next job for the same `out`.
    let stage = crate::private::NewDir::create(out, crate::private::Mode::Private).map_err(fail)?;
    write_files(stage.path(), config, design, ready, key, job, lang)?;
    // The fault tests stop here: the audit entry is written, the folder
    // not yet in place.
    crate::failpoint::hit("print-job-before-rename");
    stage.commit().map_err(Error::output(out))
}

fn write_files(
    out: &Path,
    config: &Config,
    design: &proof::Design,
    ready: &[Ready],
    key: &kartka_protocol::card::keys::MasterKey,
    job: i64,
    lang: Lang,
) -> Result<(), Error> {
    let fail = Error::output(out);
    create_private_dir(&out.join("photos")).map_err(fail)?;
    create_private_dir(&out.join("barcodes")).map_err(fail)?;
    let mut csv = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    csv.write_record(match lang {
        Lang::Uk => [
            "Номер",
            "Номер для друку",
            "Прізвище",
            "Ім'я",
            "По батькові",
            "Фото",
            "Штрихкод",
            "Категорія",
            "Громада",
            "Дійсна до",
            "UID",
        ],
        Lang::En => [
            "number",
            "number_printed",
            "surname",
            "given_name",
            "patronymic",
            "photo",
            "barcode",
            "category",
            "community",
            "valid_to",
            "uid",
        ],
    })
    .expect("in memory");
    let mut proof_cards = Vec::with_capacity(ready.len());
    for r in ready {
        let c = &r.card;
        let n = c.number;
        let photo_rel = format!("photos/{n}.jpg");
        let barcode_rel = format!("barcodes/{n}.png");
        write_private(&out.join(&photo_rel), &r.photo_jpeg)?;
        write_private(&out.join(&barcode_rel), &barcode::png(n))?;
        let category = config.category(&c.category);
        let category_name = match (lang, category) {
            (Lang::En, Some(cat)) if !cat.name_en.is_empty() => cat.name_en.as_str(),
            (_, Some(cat)) => cat.name.as_str(),
            (_, None) => c.category.as_str(),
        };
        let community_name = config
            .community(&c.community)
            .map_or(c.community.as_str(), |m| m.name.as_str());
        let valid_to = match lang {
            Lang::Uk => c.valid_to.format("%d.%m.%Y").to_string(),
            Lang::En => c.valid_to.to_string(),
        };
        csv.write_record(crate::text::csv_row([
            n.to_string().as_str(),
            &n.grouped(),
            &c.surname,
            &c.given_name,
            c.patronymic.as_deref().unwrap_or(""),
            &photo_rel,
            &barcode_rel,
            category_name,
            community_name,
            &valid_to,
            &r.uid.hex(),
        ]))
        .expect("in memory");
        proof_cards.push(proof::ProofCard {
            number: n,
            surname: &c.surname,
            given_names: match &c.patronymic {
                Some(p) if !p.is_empty() => format!("{} {p}", c.given_name),
                _ => c.given_name.clone(),
            },
            category: category_name,
            community: community_name,
            valid_to: match lang {
                Lang::Uk => format!("Дійсна до {valid_to}"),
                Lang::En => format!("Valid to {valid_to}"),
            },
            photo: &r.photo_jpeg,
        });
    }
    write_private(
        &out.join("cards.csv"),
        &csv.into_inner().expect("in memory"),
    )?;
    let to_encode: Vec<encoding::ToEncode> = ready
        .iter()
        .map(|r| encoding::ToEncode {
            number: r.card.number.value(),
            uid: r.uid.bytes,
            app: r.app,
        })
        .collect();
    let doc = encoding::document(key, job, &to_encode);
    write_private(
        &out.join("encoding.json"),
        serde_json::to_string_pretty(&doc).expect("json").as_bytes(),
    )?;
    let title = match lang {
        Lang::Uk => format!("Коректура друку: завдання {job}, карток {}", ready.len()),
        Lang::En => format!("Print proof: job {job}, {} cards", ready.len()),
    };
    write_private(
        &out.join("proof.pdf"),
        &proof::write(design, &proof_cards, &title),
    )?;
    Ok(())
}

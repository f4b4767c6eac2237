//! A synthetic city month of taps (issue 6), for tests, the demo and the
//! benchmarks: a fleet (carriers, vehicles on routes, one or two validators
//! each), card holders with skewed use, a daily profile in Kyiv time
//! (morning and evening peaks, quieter weekends, no service at night), a
//! fifth of the riding in queues of 10–25 boarding at busy stops in the
//! peaks (the hard case for the burst rule), and anomalies planted on
//! purpose, each written to `ground-truth.csv` with
//! the pattern it plants.
//!
//! Output folder:
//! - `fleet.csv` — for `kartka fleet import`;
//! - `cards.csv` — card number, UID, community of every holder;
//! - `ground-truth.csv` — validator_id, seq, card_number, pattern;
//! - the taps, as `dumps/*.kdump` (one per validator, signed with the dock
//!   master key given), as the vendor CSV `taps.csv`, or both.

mod calendar;
mod fleet;
mod plant;
mod riders;
mod write;

use std::path::PathBuf;

use chrono::NaiveDate;
use kartka_protocol::auth::DockKey;
use kartka_protocol::record::Uid;
use kartka_protocol::{TapRecord, TapResult};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::Error;
use crate::flags::rule::Rule;
use calendar::Calendar;
use fleet::Fleet;
use plant::Planter;
use riders::Riders;
pub use write::dump_bytes;

/// A tap as its validator logged it, with its vehicle's carrier and the
/// pattern planted (an index in `PATTERNS`).
type Record = (TapRecord, u16, Option<u8>);

#[derive(Debug, Clone)]
pub struct MonthOptions {
    /// The first day of the month (Kyiv).
    pub month: NaiveDate,
    pub taps: usize,
    pub holders: u32,
    pub validators: u16,
    pub vehicles: u16,
    pub routes: u16,
    pub carriers: u16,
    /// Share of taps planted as anomalies, 0.0–0.2.
    pub anomaly_share: f64,
    pub seed: u64,
    pub out: PathBuf,
    pub dumps: bool,
    pub csv: bool,
    /// Hand the taps back (to store them straight into a home).
    pub keep: bool,
    /// Signs the dumps.
    pub dock_master: DockKey,
    /// Communities, categories and the trip limit.
    pub city: City,
    /// The last sequence number each validator logged already (a home's
    /// earlier months): its taps this month are numbered on from there, as
    /// a real validator's log is.
    pub numbered: std::collections::HashMap<u16, u32>,
}

/// What the city's configuration sets in a generated month.
#[derive(Debug, Clone, Default)]
pub struct City {
    /// The city's community code first, then the partner communities'.
    pub communities: Vec<String>,
    /// Category codes, given to holders in turn.
    pub categories: Vec<String>,
    /// A configured trip limit (category or "*", trips a month): honest
    /// riders keep within it, and `trip_limit` is planted.
    pub trip_limit: Option<(String, u32)>,
}

impl City {
    /// The configuration's communities (the city's own first, then the
    /// partners'), its category codes and its first trip limit.
    pub fn of(config: &crate::config::Config) -> Self {
        City {
            communities: std::iter::once(config.city.community.clone())
                .chain(
                    config
                        .communities
                        .iter()
                        .filter(|x| x.partner)
                        .map(|x| x.code.clone()),
                )
                .collect(),
            categories: config.categories.iter().map(|c| c.code.clone()).collect(),
            trip_limit: config
                .flags
                .trip_limits
                .first()
                .map(|l| (l.category.clone(), l.per_month)),
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MonthSummary {
    pub taps: usize,
    pub planted: usize,
    pub by_pattern: std::collections::BTreeMap<&'static str, usize>,
    pub validators: usize,
    pub vehicles: usize,
    pub holders: u32,
    pub dumps: usize,
    pub out: PathBuf,
    #[serde(skip)]
    pub kept: Vec<crate::taps::Tap>,
    /// Every card, with its registry state (when `keep`).
    #[serde(skip)]
    pub cards: Vec<GenCard>,
}

/// The patterns planted, one per suspicious-tap rule meant to catch it
/// (the ground truth names each by the rule's code); `trip_limit` is
/// planted only when a limit is configured.
pub const PATTERNS: [Rule; 15] = crate::flags::rule::FRAUD;

/// A card as the registry should hold it for the month.
#[derive(Debug, Clone)]
pub struct GenCard {
    pub number: u32,
    pub uid: String,
    pub community: String,
    pub category: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Blocked from this instant (UTC seconds), reason lost.
    pub blocked_at: Option<u32>,
    pub death: Option<NaiveDate>,
}

fn uid_hex(uid: Uid) -> String {
    uid.as_bytes().iter().map(|b| format!("{b:02X}")).collect()
}

/// A tap before sequence numbers are given.
#[derive(Clone, Copy)]
struct Draft {
    /// When it happened (UTC seconds)...
    time: u32,
    /// ...and how far the validator's clock was off.
    skew: i32,
    card: u32,
    /// The holder's index; `u32::MAX` for a card nobody holds.
    holder: u32,
    uid: Uid,
    vehicle: usize,
    door: usize,
    route: u16,
    trips: Option<u16>,
    pattern: Option<u8>,
}

impl Draft {
    /// An honest tap: the card's own UID, on time, nothing planted.
    fn honest(time: u32, card: u32, holder: u32, vehicle: usize, door: usize, route: u16) -> Draft {
        Draft {
            time,
            skew: 0,
            card,
            holder,
            uid: uid_of(card, 0),
            vehicle,
            door,
            route,
            trips: None,
            pattern: None,
        }
    }
}

fn uid_of(card: u32, variant: u32) -> Uid {
    let h = (card ^ variant.wrapping_mul(0x9E37_79B9)).wrapping_mul(0x85EB_CA6B) ^ 0xC2B2_AE35;
    let b = h.to_le_bytes();
    Uid::four([0x04 | (b[0] & 0xF0), b[1], b[2], b[3]])
}

/// Generates the month into `opts.out`: the fleet, the holders' honest
/// riding, the plants, then the files.
pub fn generate(opts: &MonthOptions) -> Result<MonthSummary, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    std::fs::create_dir_all(&opts.out).map_err(write::io(&opts.out))?;
    let fleet = Fleet::plan(opts);
    fleet.write(&opts.out.join("fleet.csv"))?;
    let riders = Riders::draw(opts, &mut rng);
    let cal = Calendar::of(opts.month);

    let planted_target = ((opts.taps as f64) * opts.anomaly_share.clamp(0.0, 0.2)) as usize;
    let honest = opts.taps.saturating_sub(planted_target);
    let mut drafts = riders.ride(honest, &cal, &fleet, &mut rng);
    let mut planter = Planter::new(opts, &cal, &fleet, &riders, &drafts, &mut rng);
    let plants = planter.plant_all(planted_target);
    let cards = std::mem::take(&mut planter.cards);
    drafts.extend(plants.taps);

    count_trips(&mut drafts);
    let records = number_taps(&mut drafts, &fleet, &opts.numbered);
    // The drafts are the records now (a 100 M-tap month: 5 GB freed
    // before the files and the kept taps are made).
    drop(drafts);
    write::cards(&opts.out.join("cards.csv"), &cards)?;
    write::truth(&opts.out.join("ground-truth.csv"), &records)?;
    let mut dumps = 0;
    if opts.dumps {
        // Docked the night after the month's last day.
        let docked = cal.month_end + 3 * 3600;
        dumps = write::dumps(
            &opts.out.join("dumps"),
            &records,
            &opts.dock_master,
            docked,
            &mut rng,
        )?;
    }
    if opts.csv {
        write::vendor_csv(&opts.out.join("taps.csv"), &records)?;
    }
    Ok(MonthSummary {
        taps: records.len(),
        planted: plants.by_pattern.values().sum(),
        by_pattern: plants.by_pattern,
        validators: fleet.validators(),
        vehicles: fleet.vehicles.len(),
        holders: cards.len() as u32,
        dumps,
        out: opts.out.clone(),
        kept: if opts.keep {
            // Record by record, each freed as it is kept.
            let mut kept = Vec::with_capacity(records.len());
            let mut records = records;
            records.reverse();
            while let Some((r, carrier, _)) = records.pop() {
                kept.push(crate::taps::Tap {
                    carrier: Some(carrier),
                    ..crate::taps::Tap::from_record(r)
                });
                if records.capacity() > 4 * records.len() + 1024 {
                    records.shrink_to_fit();
                }
            }
            kept
        } else {
            Vec::new()
        },
        cards: if opts.keep { cards } else { Vec::new() },
    })
}

/// The card's trip counter: up by one at every tap, in the order the taps
/// really happened; a planted "counter_backwards" tap carries an old value.
fn count_trips(drafts: &mut [Draft]) {
    drafts.sort_unstable_by_key(|d| (d.card, d.time));
    let mut last_card = u32::MAX;
    let mut counter = 0u16;
    for d in drafts.iter_mut() {
        if d.card != last_card {
            last_card = d.card;
            counter = (d.card % 97) as u16;
        }
        counter = counter.wrapping_add(1);
        if d.trips.is_some() {
            d.trips = Some(counter.saturating_sub(40));
        } else {
            d.trips = Some(counter);
        }
    }
}

/// Sequence numbers per validator, from 1 (or on from `numbered`), in the order the taps happened
/// (a tap with a wrong clock keeps its place): the records as the
/// validators would log them, with each tap's carrier and planted pattern.
fn number_taps(
    drafts: &mut [Draft],
    fleet: &Fleet,
    numbered: &std::collections::HashMap<u16, u32>,
) -> Vec<Record> {
    drafts.sort_unstable_by_key(|d| (fleet.validator_of(d), d.time));
    let mut records: Vec<Record> = Vec::with_capacity(drafts.len());
    let mut seq = 0u32;
    let mut last_v = 0u16;
    for d in drafts.iter() {
        let v = fleet.validator_of(d);
        if v != last_v {
            last_v = v;
            seq = numbered.get(&v).map_or(1, |n| n + 1);
        }
        let vehicle = fleet.vehicles[d.vehicle];
        records.push((
            TapRecord {
                validator: v,
                seq,
                time: (i64::from(d.time) + i64::from(d.skew)) as u32,
                card: d.card,
                uid: d.uid,
                vehicle: vehicle.id,
                route: d.route,
                zone: vehicle.zone,
                result: TapResult::Accepted,
                trips: d.trips.unwrap_or(0),
            },
            vehicle.carrier,
            d.pattern,
        ));
        seq += 1;
    }
    records
}

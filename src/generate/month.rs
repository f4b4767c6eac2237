//! A synthetic city month of taps (issue 6), for tests, the demo and the
//! benchmarks: a fleet (carriers, vehicles on routes, one or two validators
//! each), card holders with skewed use, a daily profile in Kyiv time
//! (morning and evening peaks, quieter weekends, no service at night), and
//! anomalies planted on purpose, each written to `ground-truth.csv` with
//! the pattern it plants.
//!
//! Output folder:
//! - `fleet.csv` — for `kartka fleet import`;
//! - `cards.csv` — card number, UID, community of every holder;
//! - `ground-truth.csv` — validator_id, seq, card_number, pattern;
//! - the taps, as `dumps/*.kdump` (one per validator, signed with the dock
//!   master key given), as the vendor CSV `taps.csv`, or both.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Kyiv;
use kartka_protocol::auth::{DockKey, Session, validator_key};
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::{Batch, MAX_BATCH_RECORDS, Message};
use kartka_protocol::record::Uid;
use kartka_protocol::{TapRecord, TapResult};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cards::number::CardNumber;
use crate::taps::dump;

use super::Error;

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
    /// The city's community code first, then the partner communities'.
    pub communities: Vec<String>,
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
}

/// The patterns planted; issue 7's rules must find them.
pub const PATTERNS: [&str; 11] = [
    "repeat_same_vehicle",
    "impossible_travel",
    "driver_burst",
    "single_vehicle_cards",
    "excessive_daily_use",
    "unknown_card",
    "outside_service_hours",
    "route_not_served",
    "cloned_card",
    "counter_backwards",
    "clock_in_future",
];

#[derive(Clone, Copy)]
struct Vehicle {
    id: u16,
    carrier: u16,
    route: u16,
    validators: [u16; 2],
    doors: usize,
}

/// A tap before sequence numbers are given.
#[derive(Clone, Copy)]
struct Draft {
    time: u32,
    card: u32,
    uid: Uid,
    vehicle: usize,
    door: usize,
    route: u16,
    trips: Option<u16>,
    pattern: Option<u8>,
}

fn uid_of(card: u32, variant: u32) -> Uid {
    let h = (card ^ variant.wrapping_mul(0x9E37_79B9)).wrapping_mul(0x85EB_CA6B) ^ 0xC2B2_AE35;
    let b = h.to_le_bytes();
    Uid::four([0x04 | (b[0] & 0xF0), b[1], b[2], b[3]])
}

pub fn generate(opts: &MonthOptions) -> Result<MonthSummary, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| Error::Write {
            path: path.clone(),
            detail: e.to_string(),
        }
    };
    std::fs::create_dir_all(&opts.out).map_err(write_err(&opts.out))?;

    // The fleet: routes shared out among carriers, vehicles among routes;
    // `validators - vehicles` vehicles have a second door validator.
    let vehicles: Vec<Vehicle> = {
        let mut next_validator = 1u16;
        let doubles = opts.validators.saturating_sub(opts.vehicles) as usize;
        (0..opts.vehicles as usize)
            .map(|i| {
                let route = 1 + (i as u16 % opts.routes);
                let carrier = 1 + ((route - 1) % opts.carriers);
                let doors = if i < doubles { 2 } else { 1 };
                let v = [next_validator, next_validator + 1];
                next_validator += doors as u16;
                Vehicle {
                    id: 1001 + i as u16,
                    carrier,
                    route,
                    validators: v,
                    doors,
                }
            })
            .collect()
    };
    let by_route: Vec<Vec<usize>> = (1..=opts.routes)
        .map(|r| {
            (0..vehicles.len())
                .filter(|&i| vehicles[i].route == r)
                .collect()
        })
        .collect();
    write_fleet(&opts.out.join("fleet.csv"), &vehicles)?;

    // Holders: skewed use (a few ride daily, most now and then), each on a
    // home route and a second one.
    let holders = opts.holders.max(1);
    let cards: Vec<u32> = (0..holders)
        .map(|i| {
            CardNumber::from_serial(100_000_000 + i)
                .expect("in range")
                .value()
        })
        .collect();
    let mut cumulative = Vec::with_capacity(cards.len());
    let mut total = 0f64;
    for _ in 0..cards.len() {
        let u: f64 = rng.random_range(0.0001..1.0);
        total += u.powf(-0.7).min(400.0); // Pareto-like weights
        cumulative.push(total);
    }
    let home_route = |card: usize, second: bool| -> u16 {
        let h = (card as u32).wrapping_mul(2_654_435_761) >> 7;
        1 + ((h + u32::from(second) * 7) % u32::from(opts.routes)) as u16
    };
    write_cards(&opts.out.join("cards.csv"), &cards, &opts.communities)?;

    // Days of the month and their weights; the service day's hourly profile.
    let mut days = Vec::new();
    let mut d = opts.month;
    while d.month() == opts.month.month() {
        let w = match d.weekday() {
            Weekday::Sat => 0.65,
            Weekday::Sun => 0.5,
            _ => 1.0,
        };
        days.push((d, w));
        d = d.succ_opt().expect("a next day");
    }
    let day_total: f64 = days.iter().map(|x| x.1).sum();
    // Minutes after 05:30 (service to 23:30), peaks at 07:45 and 17:15.
    let minute_of_day = |rng: &mut ChaCha8Rng| -> u32 {
        loop {
            let pick: f64 = rng.random();
            let m = if pick < 0.3 {
                465.0 + normal(rng) * 50.0
            } else if pick < 0.55 {
                1035.0 + normal(rng) * 60.0
            } else {
                rng.random_range(330.0..1410.0)
            };
            if (330.0..1410.0).contains(&m) {
                return m as u32;
            }
        }
    };
    let day_start: Vec<u32> = days
        .iter()
        .map(|(d, _)| {
            Kyiv.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .earliest()
                .expect("Kyiv midnight exists")
                .with_timezone(&Utc)
                .timestamp() as u32
        })
        .collect();
    let pick_day = |rng: &mut ChaCha8Rng| -> usize {
        let mut x = rng.random_range(0.0..day_total);
        for (i, (_, w)) in days.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        days.len() - 1
    };
    let vehicle_on = |rng: &mut ChaCha8Rng, route: u16| -> usize {
        let list = &by_route[(route - 1) as usize];
        list[rng.random_range(0..list.len())]
    };

    let planted_target = ((opts.taps as f64) * opts.anomaly_share.clamp(0.0, 0.2)) as usize;
    let normal_taps = opts.taps.saturating_sub(planted_target);
    let mut drafts: Vec<Draft> = Vec::with_capacity(opts.taps + 64);
    for _ in 0..normal_taps {
        let x = rng.random_range(0.0..total);
        let card = cumulative.partition_point(|&c| c < x).min(cards.len() - 1);
        let route = home_route(card, rng.random_bool(0.3));
        let vehicle = vehicle_on(&mut rng, route);
        let day = pick_day(&mut rng);
        let time = day_start[day] + minute_of_day(&mut rng) * 60 + rng.random_range(0..60);
        drafts.push(Draft {
            time,
            card: cards[card],
            uid: uid_of(cards[card], 0),
            vehicle,
            door: rng.random_range(0..vehicles[vehicle].doors),
            route,
            trips: None,
            pattern: None,
        });
    }
    // Honest riders sometimes tap twice in a vehicle more than 15 minutes
    // apart (a return trip on the same bus): never planted, never flagged.

    // Plant the anomalies, each pattern an equal share, on top of a normal
    // tap taken as the anchor.
    let per_pattern = planted_target / PATTERNS.len();
    let day_service = |rng: &mut ChaCha8Rng, day: usize| day_start[day] + minute_of_day(rng) * 60;
    let mut planted = 0usize;
    let mut by_pattern = std::collections::BTreeMap::new();
    for (p, name) in PATTERNS.iter().enumerate() {
        let p = p as u8;
        let mut n = 0;
        while n < per_pattern && !drafts.is_empty() {
            let anchor = drafts[rng.random_range(0..normal_taps.max(1))];
            let v = vehicles[anchor.vehicle];
            let add = |d: Draft, drafts: &mut Vec<Draft>| {
                drafts.push(Draft {
                    pattern: Some(p),
                    ..d
                });
            };
            let before = drafts.len();
            match *name {
                "repeat_same_vehicle" => {
                    let door = if v.doors == 2 {
                        1 - anchor.door
                    } else {
                        anchor.door
                    };
                    add(
                        Draft {
                            time: anchor.time + rng.random_range(60..840),
                            door,
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "impossible_travel" => {
                    let route = 1 + (anchor.route % opts.routes);
                    let other = vehicle_on(&mut rng, route);
                    add(
                        Draft {
                            time: anchor.time + rng.random_range(30..240),
                            vehicle: other,
                            door: 0,
                            route,
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "driver_burst" => {
                    let start = anchor.time;
                    for k in 0..12u32 {
                        let c = rng.random_range(0..cards.len());
                        add(
                            Draft {
                                time: start + 5 + k * 4,
                                card: cards[c],
                                uid: uid_of(cards[c], 0),
                                ..anchor
                            },
                            &mut drafts,
                        );
                    }
                }
                "single_vehicle_cards" => {
                    // A card number nobody holds... that the driver taps on
                    // one vehicle every day.
                    let card = CardNumber::from_serial(100_000_000 + holders + 1000 + n as u32)
                        .expect("in range")
                        .value();
                    for day in 0..days.len().min(20) {
                        add(
                            Draft {
                                time: day_service(&mut rng, day),
                                card,
                                uid: uid_of(card, 0),
                                ..anchor
                            },
                            &mut drafts,
                        );
                    }
                }
                "excessive_daily_use" => {
                    let day_base = anchor.time - (anchor.time - day_start[0]) % 86_400;
                    for k in 0..18u32 {
                        let route = 1 + ((anchor.route + k as u16) % opts.routes);
                        add(
                            Draft {
                                time: day_base + 6 * 3600 + k * 50 * 60,
                                vehicle: vehicle_on(&mut rng, route),
                                door: 0,
                                route,
                                ..anchor
                            },
                            &mut drafts,
                        );
                    }
                }
                "unknown_card" => {
                    let card =
                        CardNumber::from_serial(400_000_000 + rng.random_range(0..1_000_000))
                            .expect("in range")
                            .value();
                    add(
                        Draft {
                            time: anchor.time + 1,
                            card,
                            uid: uid_of(card, 0),
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "outside_service_hours" => {
                    let day = rng.random_range(0..days.len());
                    add(
                        Draft {
                            time: day_start[day] + rng.random_range(60..4 * 3600),
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "route_not_served" => {
                    let route = opts.routes + 1 + rng.random_range(0..5);
                    add(
                        Draft {
                            time: anchor.time + 1,
                            route,
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "cloned_card" => {
                    let route = 1 + ((anchor.route + 3) % opts.routes);
                    add(
                        Draft {
                            time: anchor.time + rng.random_range(1800..7200),
                            uid: uid_of(anchor.card, 1 + n as u32),
                            vehicle: vehicle_on(&mut rng, route),
                            door: 0,
                            route,
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "counter_backwards" => {
                    add(
                        Draft {
                            time: anchor.time + rng.random_range(1800..7200),
                            trips: Some(0),
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                "clock_in_future" => {
                    add(
                        Draft {
                            time: anchor.time + 400 * 86_400,
                            ..anchor
                        },
                        &mut drafts,
                    );
                }
                _ => unreachable!("every pattern is planted"),
            }
            let added = drafts.len() - before;
            n += added;
            planted += added;
            *by_pattern.entry(*name).or_insert(0) += added;
        }
    }

    // The card's trip counter: up by one at every tap, in time order; a
    // planted "counter_backwards" tap carries an old value.
    drafts.sort_unstable_by_key(|d| (d.card, d.time));
    let mut last_card = u32::MAX;
    let mut counter = 0u16;
    for d in &mut drafts {
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
    // Sequence numbers per validator, in time order, as the validator
    // would have logged them.
    let validator_of =
        |d: &Draft| vehicles[d.vehicle].validators[d.door.min(vehicles[d.vehicle].doors - 1)];
    drafts.sort_unstable_by_key(|d| (validator_of(d), d.time));
    let mut records: Vec<(TapRecord, u16, Option<u8>)> = Vec::with_capacity(drafts.len());
    // Validators number their taps from 1.
    let mut seq = 1u32;
    let mut last_v = 0u16;
    for d in &drafts {
        let v = validator_of(d);
        if v != last_v {
            last_v = v;
            seq = 1;
        }
        let vehicle = vehicles[d.vehicle];
        records.push((
            TapRecord {
                validator: v,
                seq,
                time: d.time,
                card: d.card,
                uid: d.uid,
                vehicle: vehicle.id,
                route: d.route,
                zone: 1,
                result: TapResult::Accepted,
                trips: d.trips.unwrap_or(0),
            },
            vehicle.carrier,
            d.pattern,
        ));
        seq += 1;
    }
    write_truth(&opts.out.join("ground-truth.csv"), &records)?;
    let mut dumps = 0;
    if opts.dumps {
        // Docked the night after the month's last day.
        let docked = day_start.last().copied().unwrap_or(0) + 86_400 + 3 * 3600;
        dumps = write_dumps(
            &opts.out.join("dumps"),
            &records,
            &opts.dock_master,
            docked,
            &mut rng,
        )?;
    }
    if opts.csv {
        write_vendor_csv(&opts.out.join("taps.csv"), &records)?;
    }
    Ok(MonthSummary {
        taps: records.len(),
        planted,
        by_pattern,
        validators: vehicles.iter().map(|v| v.doors).sum(),
        vehicles: vehicles.len(),
        holders,
        dumps,
        out: opts.out.clone(),
        kept: if opts.keep {
            records
                .iter()
                .map(|(r, carrier, _)| crate::taps::Tap {
                    carrier: Some(*carrier),
                    ..crate::taps::Tap::from_record(*r)
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// A standard normal variate (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn file(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, Error> {
    std::fs::File::create(path)
        .map(|f| std::io::BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

fn write_fleet(path: &Path, vehicles: &[Vehicle]) -> Result<(), Error> {
    let mut f = file(path)?;
    let mut out = String::from("validator,vehicle,plate,carrier,carrier_name,edrpou,routes,zone\n");
    for v in vehicles {
        for door in 0..v.doors {
            out.push_str(&format!(
                "{},{},АЕ{:04}ВС,{},Перевізник {},{:08},{},1\n",
                v.validators[door],
                v.id,
                v.id,
                v.carrier,
                v.carrier,
                30_000_000 + u32::from(v.carrier),
                v.route
            ));
        }
    }
    f.write_all(out.as_bytes())
        .and_then(|()| f.flush())
        .map_err(io(path))
}

/// Three holders in four live in the city; the rest in the partner
/// communities, in turn.
fn community_of(i: usize, communities: &[String]) -> &str {
    match communities {
        [] => "",
        [city] => city,
        [city, partners @ ..] => {
            if i % 4 != 3 {
                city
            } else {
                &partners[(i / 4) % partners.len()]
            }
        }
    }
}

fn write_cards(path: &Path, cards: &[u32], communities: &[String]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(f, "card_number,card_uid,community").map_err(io(path))?;
    for (i, &c) in cards.iter().enumerate() {
        let uid = uid_of(c, 0);
        let hex: String = uid.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
        writeln!(f, "{c},{hex},{}", community_of(i, communities)).map_err(io(path))?;
    }
    f.flush().map_err(io(path))
}

fn write_truth(path: &Path, records: &[(TapRecord, u16, Option<u8>)]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(f, "validator_id,seq,card_number,pattern").map_err(io(path))?;
    for (r, _, p) in records {
        if let Some(p) = p {
            writeln!(
                f,
                "{},{},{},{}",
                r.validator, r.seq, r.card, PATTERNS[*p as usize]
            )
            .map_err(io(path))?;
        }
    }
    f.flush().map_err(io(path))
}

fn write_vendor_csv(path: &Path, records: &[(TapRecord, u16, Option<u8>)]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(
        f,
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq"
    )
    .map_err(io(path))?;
    for (r, carrier, _) in records {
        let t = chrono::DateTime::<Utc>::from_timestamp(i64::from(r.time), 0)
            .unwrap_or_default()
            .with_timezone(&Kyiv);
        let uid: String = r
            .uid
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            r.validator,
            r.vehicle,
            r.route,
            carrier,
            r.card,
            uid,
            t.format("%Y-%m-%dT%H:%M:%S%:z"),
            r.zone,
            r.result.name(),
            r.seq
        )
        .map_err(io(path))?;
    }
    f.flush().map_err(io(path))
}

/// One dump per validator, as a docking at the month's end would keep it.
fn write_dumps(
    dir: &Path,
    records: &[(TapRecord, u16, Option<u8>)],
    master: &DockKey,
    docked: u32,
    rng: &mut ChaCha8Rng,
) -> Result<usize, Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut n = 0;
    for chunk in records.chunk_by(|a, b| a.0.validator == b.0.validator) {
        let validator = chunk[0].0.validator;
        let session = Session {
            host_nonce: rng.random(),
            validator_nonce: rng.random(),
        };
        let bytes = dump_bytes(validator, session, chunk.iter().map(|c| c.0), master);
        let header = dump::Header {
            validator,
            session,
            received_at: i64::from(docked),
            seq_first: chunk[0].0.seq,
            seq_last: chunk[chunk.len() - 1].0.seq,
            taps: chunk.len() as u32,
            frames: chunk.len().div_ceil(MAX_BATCH_RECORDS) as u32,
        };
        let path = dir.join(header.file_name());
        let mut f = file(&path)?;
        f.write_all(&header.to_bytes())
            .and_then(|()| f.write_all(&bytes))
            .and_then(|()| f.flush())
            .map_err(io(&path))?;
        n += 1;
    }
    Ok(n)
}

/// The batch frames of `records`, signed as the validator would sign them.
pub fn dump_bytes(
    validator: u16,
    session: Session,
    records: impl Iterator<Item = TapRecord>,
    master: &DockKey,
) -> Vec<u8> {
    let key = validator_key(master, validator);
    let all: Vec<TapRecord> = records.collect();
    let chunks: Vec<&[TapRecord]> = all.chunks(MAX_BATCH_RECORDS).collect();
    let mut out = Vec::with_capacity(all.len() * 30 + chunks.len() * 24);
    let mut packed = Vec::with_capacity(MAX_BATCH_RECORDS * kartka_protocol::RECORD_LEN);
    let mut wire = [0u8; MAX_WIRE];
    for (i, chunk) in chunks.iter().enumerate() {
        packed.clear();
        for r in *chunk {
            packed.extend_from_slice(&r.to_bytes());
        }
        let msg = Message::Batch(Batch {
            records: &packed,
            last: i + 1 == chunks.len(),
        });
        let n = encode(&msg, &key, session, &mut wire).expect("a batch fits a frame");
        out.extend_from_slice(&wire[..n]);
    }
    out
}

//! `kartka cards image` and `cards inspect` (issue 23): a card's expected
//! chip content as a Proxmark3 dump, and any dump explained: block 0, the
//! MAD, the transport application (number, category, community,
//! validity), the trip counter, the last validation, whether the keys in
//! the trailers are the card's derivation (and which version: AN10922, or
//! the HMAC keys of cards printed before), and what the registry and the
//! published blocklist say of the card.

use chrono::{DateTime, Days, NaiveDate};
use kartka_protocol::card::access::Access;
use kartka_protocol::card::image::{ATQA, SAK};
use kartka_protocol::card::keys::{KeyKind, KeyVersion, MasterKey, sector_key_of};
use kartka_protocol::card::mad::{MAD_KEY_A, Mad, MadError, TRANSPORT_AID};
use kartka_protocol::card::transport::{LastValidation, TransportApp};
use kartka_protocol::card::{Trailer, first_block, trailer_block, value};

use super::dump::{Format, Image};
use super::{CardNumber, Error, State};
use crate::config::Config;
use crate::registry::Registry;

/// A card's expected content: as the card office encodes it, counter 0,
/// never validated.
pub fn image(
    reg: &Registry,
    config: &Config,
    master: &MasterKey,
    number: CardNumber,
) -> Result<Image, Error> {
    let card = super::card(reg, number)?;
    let refuse = |why: &str| Error::Refused {
        number: number.to_string(),
        why: why.to_string(),
    };
    let uid = card
        .uid
        .as_deref()
        .ok_or_else(|| refuse("it has no chip yet: its UID is known once a print job encodes it (kartka cards print-job)"))?;
    let uid =
        uid4(uid).ok_or_else(|| refuse("its UID in the registry is not 4 bytes (8 hex digits)"))?;
    let app = super::print::transport_app(config, &card)
        .ok_or_else(|| refuse("its category or community is not in kartka.toml"))?;
    Ok(kartka_protocol::card::image::card(
        master, &uid, &app, 0, None,
    ))
}

fn uid4(hex: &str) -> Option<[u8; 4]> {
    let h = hex.trim();
    if h.len() != 8 {
        return None;
    }
    let mut out = [0u8; 4];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A finding, good or not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Application {
    pub card: String,
    pub layout: u8,
    pub key_version: u8,
    pub category: String,
    pub community: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub issue: u8,
    /// Trips a month, 0 for none.
    pub trip_limit: u8,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Validation {
    /// Kyiv time.
    pub at: String,
    pub vehicle: u16,
    pub route: u16,
    pub validator: u16,
    pub zone: u8,
    pub month_trips: u16,
}

/// What a dump says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    pub format: Format,
    pub uid: String,
    pub application: Option<Application>,
    pub trips: Option<i32>,
    pub last_validation: Option<Validation>,
    /// The card's state in the registry ("active", "blocked (lost)"…).
    pub registry: Option<String>,
    pub on_blocklist: Option<bool>,
    pub blocklist_version: Option<u32>,
    pub findings: Vec<Finding>,
}

impl Inspection {
    /// Every check held.
    pub fn sound(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
}

fn date(day: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + Days::new(u64::from(day))
}

/// Explains `image`: each check a finding; the registry's and the
/// blocklist's say on the card last.
pub fn inspect(
    reg: &Registry,
    config: &Config,
    master: &MasterKey,
    format: Format,
    image: &Image,
) -> Result<Inspection, Error> {
    let (mut inspection, app) = chip(config, master, format, image);
    if let Some(a) = app {
        registry(reg, a, &hex(&image[0][..4]), &mut inspection)?;
    }
    Ok(inspection)
}

/// What the chip alone says: block 0, the MAD, the application, the
/// counter, the last validation, the keys.
pub fn chip(
    config: &Config,
    master: &MasterKey,
    format: Format,
    image: &Image,
) -> (Inspection, Option<TransportApp>) {
    let mut findings = Vec::new();
    let mut say = |ok: bool, what: String| findings.push(Finding { ok, what });
    let b0 = &image[0];
    let uid = [b0[0], b0[1], b0[2], b0[3]];
    let bcc = uid.iter().fold(0, |a, b| a ^ b);
    say(
        b0[4] == bcc && b0[5] == SAK && b0[6..8] == ATQA,
        format!(
            "block 0: UID {}, BCC {:02X} ({}), SAK {:02X}, ATQA {}: {}",
            hex(&uid),
            b0[4],
            if b0[4] == bcc { "right" } else { "WRONG" },
            b0[5],
            hex(&b0[6..8]),
            if b0[5] == SAK && b0[6..8] == ATQA {
                "a MIFARE Classic 1K with a 4-byte UID"
            } else {
                "NOT a 4-byte-UID MIFARE Classic 1K"
            }
        ),
    );
    let mad_trailer = Trailer::from_block(&image[3]);
    let mad = Mad::decode(&image[1], &image[2]);
    let sector = match &mad {
        Ok(m) => {
            let s = m.find(TRANSPORT_AID);
            say(
                s.is_some(),
                match s {
                    Some(s) => format!("MAD v1: CRC right; the transport application {TRANSPORT_AID:04X} is in sector {s}"),
                    None => "MAD v1: CRC right, but no transport application (AID 1801): not a kartka card".into(),
                },
            );
            s
        }
        // Bit 7 of the MAD sector's general purpose byte says whether the
        // card has a directory at all (AN10787 §3.3).
        Err(_) if image[3][9] & 0x80 == 0 => {
            say(
                false,
                format!(
                    "no MAD: sector 0's general purpose byte ({:02X}) says the card has no directory; \
                     not a card kartka wrote (kartka writes MAD v1 with the transport application {TRANSPORT_AID:04X})",
                    image[3][9]
                ),
            );
            None
        }
        Err(MadError::Crc { stored, computed }) => {
            say(
                false,
                format!(
                    "MAD v1 damaged: its CRC is {stored:02X}, its bytes give {computed:02X}; \
                     read the card again, and reissue it if the dump stays so"
                ),
            );
            None
        }
    };
    let Some(sector) = sector else {
        let i = Inspection {
            format,
            uid: hex(&uid),
            application: None,
            trips: None,
            last_validation: None,
            registry: None,
            on_blocklist: None,
            blocklist_version: None,
            findings,
        };
        return (i, None);
    };
    let first = first_block(sector) as usize;
    let app = TransportApp::from_block(&image[first]);
    let (application, version) = match &app {
        Ok(a) => {
            let name = |list: Vec<String>, i: usize| {
                list.get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("#{i} (not in kartka.toml)"))
            };
            let application = Application {
                card: a.card.to_string(),
                layout: a.layout,
                key_version: a.key_version() as u8,
                category: name(
                    config.categories.iter().map(|c| c.code.clone()).collect(),
                    usize::from(a.category),
                ),
                community: name(
                    config.communities.iter().map(|c| c.code.clone()).collect(),
                    usize::from(a.community),
                ),
                valid_from: date(a.valid_from),
                valid_to: date(a.valid_to),
                issue: a.issue,
                trip_limit: a.trip_limit,
            };
            say(
                true,
                format!(
                    "transport application: card {}, layout {} (keys version {}: {}), CRC right",
                    a.card,
                    a.layout,
                    a.key_version() as u8,
                    match a.key_version() {
                        KeyVersion::V2 => "NXP AN10922",
                        KeyVersion::V1 => "HMAC, printed before AN10922 keys",
                    }
                ),
            );
            (Some(application), Some(a.key_version()))
        }
        Err(e) => {
            say(
                false,
                format!("block {first}: the transport application does not read ({e:?})"),
            );
            (None, None)
        }
    };
    let trips = match value::decode(&image[first + 1]) {
        Ok((n, _)) => Some(n),
        Err(e) => {
            say(
                false,
                format!(
                    "block {}: the trip counter is not a value block ({e:?})",
                    first + 1
                ),
            );
            None
        }
    };
    let last = LastValidation::from_block(&image[first + 2]).map(|l| Validation {
        at: DateTime::from_timestamp(i64::from(l.time), 0)
            .map(crate::time::kyiv_text)
            .unwrap_or_default(),
        vehicle: l.vehicle,
        route: l.route,
        validator: l.validator,
        zone: l.zone,
        month_trips: l.month_trips,
    });
    // The keys the trailers carry against the card's own derivation.
    let transport = Trailer::from_block(&image[trailer_block(sector) as usize]);
    match (version, &transport, &mad_trailer) {
        (Some(v), Ok(t), Ok(m)) => {
            let want = |s, k| sector_key_of(v, master, &uid, s, k);
            let key = |have: [u8; 6], want: [u8; 6], what: &str| -> Finding {
                if have == want {
                    Finding {
                        ok: true,
                        what: format!("{what}: the card's derived key"),
                    }
                } else if have == [0; 6] {
                    Finding {
                        ok: true,
                        what: format!(
                            "{what}: not in the dump (a reader shows an unread key as zeros)"
                        ),
                    }
                } else {
                    Finding {
                        ok: false,
                        what: format!(
                            "{what}: {} is NOT the card's derived key: a clone, or another city's card",
                            hex(&have)
                        ),
                    }
                }
            };
            findings.push(key(
                t.key_a,
                want(sector, KeyKind::A),
                &format!("sector {sector} Key A"),
            ));
            findings.push(key(
                t.key_b,
                want(sector, KeyKind::B),
                &format!("sector {sector} Key B"),
            ));
            findings.push(key(m.key_b, want(0, KeyKind::B), "sector 0 Key B"));
            findings.push(Finding {
                ok: m.key_a == MAD_KEY_A || m.key_a == [0; 6],
                what: format!(
                    "sector 0 Key A {}: {}",
                    hex(&m.key_a),
                    if m.key_a == MAD_KEY_A {
                        "the MAD's public key"
                    } else if m.key_a == [0; 6] {
                        "not in the dump"
                    } else {
                        "NOT the MAD's public key"
                    }
                ),
            });
            findings.push(Finding {
                ok: t.access == Access::TRANSPORT && m.access == Access::MAD,
                what: format!(
                    "access bits: sector 0 {}, sector {sector} {}",
                    hex(&m.access.encode()),
                    hex(&t.access.encode())
                ),
            });
        }
        (_, Err(e), _) | (_, _, Err(e)) => findings.push(Finding {
            ok: false,
            what: format!(
                "a trailer's access bits are malformed ({e}): the sector is locked for ever"
            ),
        }),
        (None, _, _) => {}
    }
    let i = Inspection {
        format,
        uid: hex(&uid),
        application,
        trips,
        last_validation: last,
        registry: None,
        on_blocklist: None,
        blocklist_version: None,
        findings,
    };
    (i, app.ok())
}

/// The registry's and the published blocklist's say on the card.
fn registry(reg: &Registry, a: TransportApp, uid: &str, i: &mut Inspection) -> Result<(), Error> {
    if let Ok(number) = CardNumber::parse(&a.card.to_string()) {
        match super::card(reg, number) {
            Ok(c) => {
                let state = match (c.state, c.reason) {
                    (State::Blocked, Some(r)) => format!("blocked ({})", r.code()),
                    (s, _) => s.code().to_string(),
                };
                let same_uid = c.uid.as_deref().map(|u| u.eq_ignore_ascii_case(uid));
                i.findings.push(Finding {
                    ok: same_uid != Some(false),
                    what: match same_uid {
                        Some(true) => format!("registry: card {} {state}, encoded on this UID", a.card),
                        Some(false) => format!(
                            "registry: card {} {state}, but encoded on UID {}: this chip is NOT the card's",
                            a.card,
                            c.uid.unwrap_or_default()
                        ),
                        None => format!("registry: card {} {state}, no UID recorded yet", a.card),
                    },
                });
                i.registry = Some(state);
            }
            Err(Error::UnknownCard(_)) => i.findings.push(Finding {
                ok: false,
                what: format!("registry: no card {}", a.card),
            }),
            Err(e) => return Err(e),
        }
    }
    if let Some(list) = super::blocklist::latest(reg)? {
        let blocked = list.cards.binary_search(&a.card).is_ok();
        i.findings.push(Finding {
            ok: !blocked,
            what: format!(
                "blocklist version {}: the card is {}on it",
                list.version,
                if blocked { "" } else { "not " }
            ),
        });
        i.on_blocklist = Some(blocked);
        i.blocklist_version = Some(list.version);
    }
    Ok(())
}

/// What `cards image` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub card: String,
    pub uid: String,
    pub format: Format,
    pub file: std::path::PathBuf,
    pub bytes: usize,
}

/// `kartka cards image`: the card's expected content as a dump in
/// `format`, written to `out` (default `HOME/exports/cards/NUMBER.EXT`),
/// readable by its owner only: the trailers hold the card's keys.
pub fn write_image(
    home: &crate::home::Home,
    reg: &Registry,
    config: &Config,
    number: CardNumber,
    format: Format,
    out: Option<&std::path::Path>,
) -> Result<Written, Error> {
    let master = super::keyfile::read(&home.root().join(&config.cards.key_file))?;
    let img = image(reg, config, &master, number)?;
    let file = match out {
        Some(p) => p.to_path_buf(),
        None => home.exports().join("cards").join(format!(
            "hf-mf-{}-{number}.{}",
            hex(&img[0][..4]),
            format.extension()
        )),
    };
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::output(&file))?;
    }
    let bytes = super::dump::write(&img, format);
    crate::private::write(&file, &bytes).map_err(Error::output(&file))?;
    Ok(Written {
        card: number.to_string(),
        uid: hex(&img[0][..4]),
        format,
        file,
        bytes: bytes.len(),
    })
}

/// `kartka cards inspect`: the dump at `path` read and explained.
pub fn inspect_file(
    home: &crate::home::Home,
    reg: &Registry,
    config: &Config,
    path: &std::path::Path,
) -> Result<Inspection, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Dump {
        path: path.to_path_buf(),
        why: format!("cannot read it ({e})"),
    })?;
    let (format, img) = super::dump::read(&bytes).map_err(|e| Error::Dump {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    let master = super::keyfile::read(&home.root().join(&config.cards.key_file))?;
    inspect(reg, config, &master, format, &img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::dump::{read, write};
    use kartka_protocol::card::transport::LAYOUT_VERSION;
    use proptest::prelude::*;

    proptest! {
        /// Every card kartka can issue (any category and community of the
        /// city, any validity, issue, trip limit, UID, either key version,
        /// any counter and last validation), written as each dump format
        /// and read back, explains as issued, every check sound.
        #[test]
        fn every_issuable_card_round_trips_through_every_dump_format(
            uid in any::<[u8; 4]>(),
            master in any::<[u8; 16]>(),
            card in 100_000_000u32..2_000_000_000,
            category in 0usize..11,
            community in 0usize..3,
            from in 19_000u16..30_000,
            days in 0u16..4_000,
            issue in 1u8..,
            limit in any::<u8>(),
            old_keys in any::<bool>(),
            trips in 0i32..100_000,
            last in proptest::option::of((1u32.., any::<u16>(), any::<u16>(), any::<u16>(), any::<u8>(), any::<u16>())),
        ) {
            let config = Config::default_config();
            let category = category % config.categories.len();
            let community = community % config.communities.len();
            let layout = if old_keys { 1 } else { LAYOUT_VERSION };
            let app = TransportApp {
                layout,
                card,
                category: category as u8,
                community: community as u16,
                valid_from: from,
                valid_to: from.saturating_add(days),
                issue,
                trip_limit: if old_keys { 0 } else { limit },
            };
            let last = last.map(|(time, vehicle, route, validator, zone, month_trips)| LastValidation {
                time, vehicle, route, validator, zone, month_trips,
            });
            let image = kartka_protocol::card::image::card(&master, &uid, &app, trips, last.as_ref());
            for format in [Format::ProxmarkJson, Format::Bin, Format::Eml] {
                let (f, back) = read(&write(&image, format)).unwrap();
                prop_assert_eq!(f, format);
                prop_assert_eq!(back, image);
                let (i, read_app) = chip(&config, &master, f, &back);
                prop_assert_eq!(read_app, Some(app));
                prop_assert!(i.sound(), "{:?}", i.findings);
                let a = i.application.unwrap();
                prop_assert_eq!(&a.category, &config.categories[category].code);
                prop_assert_eq!(&a.community, &config.communities[community].code);
                prop_assert_eq!(a.key_version, if old_keys { 1 } else { 2 });
                prop_assert_eq!(i.trips, Some(trips));
                prop_assert_eq!(i.last_validation.map(|l| l.month_trips), last.map(|l| l.month_trips));
                // Another master key: every derived key is caught.
                let (other, _) = chip(&config, &[master[0] ^ 1; 16], f, &back);
                prop_assert_eq!(other.findings.iter().filter(|x| !x.ok).count(), 3);
            }
        }
    }

    /// A kartka card whose directory lost a byte: the MAD is named damaged
    /// with both CRCs and what to do, not taken for a foreign card.
    #[test]
    fn a_damaged_mad_is_named_with_its_crcs() {
        let config = Config::default_config();
        let app = TransportApp {
            layout: LAYOUT_VERSION,
            card: 1_000_000_008,
            category: 0,
            community: 0,
            valid_from: 20_000,
            valid_to: 21_000,
            issue: 1,
            trip_limit: 0,
        };
        let mut image = kartka_protocol::card::image::card(&[7; 16], &[4, 1, 2, 3], &app, 0, None);
        image[1][4] ^= 0x01;
        let (i, read_app) = chip(&config, &[7; 16], Format::Bin, &image);
        assert_eq!(read_app, None);
        let mad = i
            .findings
            .iter()
            .find(|f| f.what.starts_with("MAD"))
            .unwrap();
        assert!(!mad.ok);
        assert!(
            mad.what.starts_with("MAD v1 damaged: its CRC is ")
                && mad
                    .what
                    .ends_with("read the card again, and reissue it if the dump stays so"),
            "{}",
            mad.what
        );
    }
}

//! One docking, host-led (`kartka_protocol::message`): hello → is the
//! validator registered → its clock → its taps from the oldest unacked
//! sequence number, every batch's MAC checked → stored durably (raw dump,
//! Parquet, ledger) → ack → the blocklist if the validator's is older → its
//! settings.

use std::path::Path;
use std::time::Duration;

use chrono::{Offset, Utc};
use chrono_tz::Europe::Kyiv;
use kartka_protocol::auth::{DockKey, Session, validator_key};
use kartka_protocol::frame::decode_wire;
use kartka_protocol::message::{Done, ErrorCode, Hello, MAX_ROUTES, Message, Settings};
use kartka_protocol::{FrameError, PROTOCOL_VERSION, TapRecord};
use rusqlite::params;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;
use crate::taps::{self, Tap, dump, ledger::Held};

use super::Error;
use super::link::{Link, LinkError};

/// Requests sent again without an answer before the link counts as dead.
const RETRIES: u32 = 5;

pub struct Context<'a> {
    pub home: &'a Home,
    pub reg: &'a mut Registry,
    pub held: &'a mut Held,
    pub config: &'a Config,
    pub master: DockKey,
    pub operator: &'a str,
    pub progress: &'a indicatif::ProgressBar,
}

/// What one docking did, as far as it got.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub port: String,
    pub validator: Option<u16>,
    pub firmware: Option<String>,
    pub drift_s: Option<i64>,
    pub clock_fixed: bool,
    pub taps_read: usize,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    pub batches_rejected: usize,
    pub acked_up_to: Option<u32>,
    pub dump: Option<String>,
    pub blocklist_pushed: Option<u32>,
    pub settings_pushed: Option<u32>,
    pub frames_damaged: usize,
    pub seconds: f64,
}

pub async fn dock<S: AsyncRead + AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    link: &mut Link<S>,
    report: &mut Report,
) -> Result<(), Error> {
    let port = report.port.clone();
    let wait = Duration::from_secs(u64::from(cx.config.dock.reply_timeout_s.max(1)));
    let gone = |at: &str, e: LinkError, acked: Option<u32>| {
        let LinkError::Gone(why) = e;
        Error::Unplugged {
            port: port.clone(),
            at: at.to_string(),
            why,
            acked,
        }
    };

    // 1. Hello.
    let host_nonce: u32 = rand::random();
    let mut session = Session {
        host_nonce,
        validator_nonce: 0,
    };
    let mut hello: Option<(Hello, DockKey)> = None;
    'hello: for _ in 0..RETRIES {
        link.send(&Message::Hi { host_nonce }, &[0; 16], session)
            .await
            .map_err(|e| gone("hi", e, None))?;
        while let Some(mut raw) = link
            .next_frame(wait)
            .await
            .map_err(|e| gone("hello", e, None))?
        {
            let kept = raw.clone();
            match decode_wire(&mut raw) {
                Ok(d) => match d.message {
                    Message::Hello(h) => {
                        let key = validator_key(&cx.master, h.validator);
                        let s = Session {
                            host_nonce,
                            validator_nonce: h.validator_nonce,
                        };
                        if d.verify(&key, s).is_err() {
                            let file =
                                quarantine(cx, &kept, "hello-mac", Some(h.validator), &port)?;
                            return Err(Error::BadMac {
                                port: port.clone(),
                                validator: h.validator,
                                frame: link.frames_in,
                                what: "its hello".into(),
                                file,
                            });
                        }
                        session = s;
                        hello = Some((h, key));
                        break 'hello;
                    }
                    Message::Error(e) if e.code == ErrorCode::Version => {
                        return Err(Error::Version {
                            port: port.clone(),
                            theirs: e.detail,
                        });
                    }
                    _ => {}
                },
                Err(FrameError::Version { got }) => {
                    return Err(Error::Version {
                        port: port.clone(),
                        theirs: u32::from(got),
                    });
                }
                Err(_) => report.frames_damaged += 1,
            }
        }
    }
    let Some((hello, key)) = hello else {
        return Err(Error::NoAnswer {
            port: port.clone(),
            frames: link.frames_in,
            bytes: link.bytes_in,
        });
    };
    if hello.protocol != PROTOCOL_VERSION {
        return Err(Error::Version {
            port: port.clone(),
            theirs: u32::from(hello.protocol),
        });
    }
    let id = hello.validator;
    report.validator = Some(id);
    report.firmware = Some(format!(
        "{}.{}.{}",
        hello.firmware[0], hello.firmware[1], hello.firmware[2]
    ));
    let info = crate::fleet::validator(cx.reg, id)?;

    // 2. The clock.
    let now = Utc::now().timestamp();
    if hello.clock == 0 {
        report.drift_s = None;
    } else {
        report.drift_s = Some(i64::from(hello.clock) - now);
    }
    let off = report
        .drift_s
        .is_none_or(|d| d.unsigned_abs() > u64::from(cx.config.dock.max_clock_drift_s));
    if info.is_some() && off {
        let utc = Utc::now().timestamp() as u32;
        request(
            link,
            &key,
            session,
            &Message::SetTime { utc },
            wait,
            report,
            &port,
            |d| matches!(d, Done::TimeSet { .. }),
        )
        .await?;
        report.clock_fixed = true;
    }

    // 3. The taps, from the oldest unacked on.
    let mut expected = hello.oldest;
    let end = hello.next;
    cx.progress
        .set_length(u64::from(end.saturating_sub(expected)));
    cx.progress.set_message(format!("validator {id}"));
    let mut frames: Vec<u8> = Vec::new();
    let mut frame_count = 0u32;
    let mut records: Vec<TapRecord> = Vec::new();
    let mut forged: Option<(Vec<u8>, u64)> = None;
    let mut idle = 0;
    'read: while expected < end && forged.is_none() {
        link.send(&Message::ReadFrom { seq: expected }, &key, session)
            .await
            .map_err(|e| gone("read-from", e, None))?;
        let before = expected;
        loop {
            let frame_no = link.frames_in + 1;
            let Some(mut raw) = link.next_frame(wait).await.map_err(|e| {
                gone(
                    &format!("frame {frame_no} (the batch from seq {expected})"),
                    e,
                    None,
                )
            })?
            else {
                break; // silence: ask again from where we are
            };
            let kept = raw.clone();
            let d = match decode_wire(&mut raw) {
                Ok(d) => d,
                Err(_) => {
                    report.frames_damaged += 1;
                    continue;
                }
            };
            match &d.message {
                Message::Batch(b) => {
                    if d.verify(&key, session).is_err() {
                        report.batches_rejected += 1;
                        forged = Some((kept, link.frames_in));
                        break 'read;
                    }
                    let mut recs =
                        Vec::with_capacity(b.records.len() / kartka_protocol::RECORD_LEN);
                    for r in TapRecord::iter_packed(b.records) {
                        match r {
                            Ok(r) => recs.push(r),
                            Err(e) => {
                                return Err(Error::Protocol {
                                    port: port.clone(),
                                    frame: link.frames_in,
                                    why: e.to_string(),
                                });
                            }
                        }
                    }
                    let fits = recs.first().is_some_and(|r| r.seq == expected)
                        && recs
                            .iter()
                            .enumerate()
                            .all(|(i, r)| r.seq == expected + i as u32 && r.validator == id);
                    if fits {
                        expected += recs.len() as u32;
                        frames.push(0);
                        frames.extend_from_slice(&kept);
                        frames.push(0);
                        frame_count += 1;
                        records.extend(recs);
                        cx.progress.set_position(u64::from(expected - hello.oldest));
                    }
                    // A batch from before a re-sent request is dropped:
                    // the new stream brings it again in order.
                    if b.last || expected >= end {
                        break;
                    }
                }
                Message::Error(e) => {
                    return Err(Error::Refused {
                        port: port.clone(),
                        validator: id,
                        frame: link.frames_in,
                        what: e.code.describe().into(),
                        detail: e.detail,
                    });
                }
                _ => {}
            }
        }
        if expected == before {
            idle += 1;
            if idle >= RETRIES {
                return Err(Error::Unplugged {
                    port: port.clone(),
                    at: format!("batch at seq {expected}"),
                    why: format!("no usable batch after {RETRIES} requests"),
                    acked: None,
                });
            }
        } else {
            idle = 0;
        }
    }
    report.taps_read = records.len();

    // 4. Store durably, then ack.
    if !records.is_empty() {
        let header = dump::Header {
            validator: id,
            session,
            received_at: Utc::now().timestamp(),
            seq_first: records[0].seq,
            seq_last: records[records.len() - 1].seq,
            taps: records.len() as u32,
            frames: frame_count,
        };
        let Some(info) = &info else {
            let dir = cx.home.quarantine().join("unknown-validators");
            let (path, sha256) = dump::write(&dir, &header, &frames)?;
            let rel = record_quarantine(cx, &path, &sha256, "unknown validator", Some(id), &port)?;
            return Err(Error::UnknownValidator {
                port: port.clone(),
                validator: id,
                taps: records.len(),
                file: rel,
            });
        };
        let dir = cx.home.dumps().join(format!("v{id:05}"));
        let (path, sha256) = dump::write(&dir, &header, &frames)?;
        crate::failpoint::hit("dock-after-dump");
        let rel = relative(cx.home, &path);
        let source = taps::Source {
            kind: "dock",
            file: Some(Path::new(&rel)),
            sha256,
            validator: Some(id),
            rejected: 0,
        };
        let taps: Vec<Tap> = records
            .iter()
            .map(|r| Tap {
                carrier: Some(info.carrier),
                ..Tap::from_record(*r)
            })
            .collect();
        let stored = taps::ingest(cx.home, cx.reg, cx.held, taps, &source, cx.operator)?;
        crate::failpoint::hit("dock-before-ack");
        report.taps_new = stored.taps_new;
        report.taps_duplicate = stored.taps_duplicate;
        report.dump = Some(rel);
        let up_to = header.seq_last;
        request(
            link,
            &key,
            session,
            &Message::Ack { up_to },
            wait,
            report,
            &port,
            |d| matches!(d, Done::Acked { up_to: u } if *u == up_to),
        )
        .await
        .map_err(|e| match e {
            Error::Unplugged { port, at, why, .. } => Error::Unplugged {
                port,
                at,
                why,
                acked: None,
            },
            e => e,
        })?;
        report.acked_up_to = Some(up_to);
    }
    if let Some((raw, frame)) = forged {
        let file = quarantine(cx, &raw, "batch-mac", Some(id), &port)?;
        return Err(Error::BadMac {
            port: port.clone(),
            validator: id,
            frame,
            what: format!("the batch after seq {}", expected.saturating_sub(1)),
            file,
        });
    }
    let Some(info) = info else {
        return Err(Error::UnknownValidator {
            port: port.clone(),
            validator: id,
            taps: 0,
            file: String::new(),
        });
    };

    // 5. The blocklist, if the validator's is older.
    if let Some(list) = crate::cards::blocklist::latest(cx.reg)?
        && hello.blocklist_version < list.version
    {
        let chunks = list.chunk_bytes();
        for i in 0..chunks.len() {
            let msg = Message::PutBlocklist(list.message(i, &chunks));
            request(
                link,
                &key,
                session,
                &msg,
                wait,
                report,
                &port,
                |d| matches!(d, Done::Blocklist { chunk, .. } if usize::from(*chunk) == i),
            )
            .await?;
        }
        report.blocklist_pushed = Some(list.version);
    }

    // 6. Its settings, if they differ from the registry's.
    if info.settings_version == 0 || info.settings_version != hello.settings_version {
        let version = info.settings_version.max(hello.settings_version) + 1;
        let mut routes = [0u16; MAX_ROUTES];
        for (slot, r) in routes.iter_mut().zip(&info.routes) {
            *slot = *r;
        }
        let offset = Utc::now()
            .with_timezone(&Kyiv)
            .offset()
            .fix()
            .local_minus_utc()
            / 60;
        let settings = Settings {
            version,
            vehicle: info.vehicle,
            carrier: info.carrier,
            route: info.routes.first().copied().unwrap_or(0),
            routes,
            zone: info.zone,
            timeout_s: cx.config.dock.repeat_timeout_s,
            utc_offset_min: offset as i16,
        };
        request(
            link,
            &key,
            session,
            &Message::PutSettings(settings),
            wait,
            report,
            &port,
            |d| matches!(d, Done::Settings { version: v } if *v == version),
        )
        .await?;
        crate::fleet::set_settings_version(cx.reg, id, version)?;
        report.settings_pushed = Some(version);
    }
    Ok(())
}

/// Sends a command and waits for its `Done`, sending it again after
/// silence. An `Error` reply is the validator refusing.
#[allow(clippy::too_many_arguments)]
async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    link: &mut Link<S>,
    key: &DockKey,
    session: Session,
    msg: &Message<'_>,
    wait: Duration,
    report: &mut Report,
    port: &str,
    done: impl Fn(&Done) -> bool,
) -> Result<(), Error> {
    let gone = |e: LinkError| {
        let LinkError::Gone(why) = e;
        Error::Unplugged {
            port: port.to_string(),
            at: msg.name().to_string(),
            why,
            acked: None,
        }
    };
    for _ in 0..RETRIES {
        link.send(msg, key, session).await.map_err(gone)?;
        while let Some(mut raw) = link.next_frame(wait).await.map_err(gone)? {
            let Ok(d) = decode_wire(&mut raw) else {
                report.frames_damaged += 1;
                continue;
            };
            if d.verify(key, session).is_err() {
                report.frames_damaged += 1;
                continue;
            }
            match d.message {
                Message::Done(x) if done(&x) => return Ok(()),
                Message::Error(e) => {
                    return Err(Error::Refused {
                        port: port.to_string(),
                        validator: report.validator.unwrap_or(0),
                        frame: link.frames_in,
                        what: format!("{}: {}", msg.name(), e.code.describe()),
                        detail: e.detail,
                    });
                }
                _ => {}
            }
        }
    }
    Err(Error::Unplugged {
        port: port.to_string(),
        at: msg.name().to_string(),
        why: format!("no answer after {RETRIES} tries"),
        acked: None,
    })
}

fn relative(home: &Home, path: &Path) -> String {
    path.strip_prefix(home.root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Keeps one raw frame in quarantine; returns its path in the home.
fn quarantine(
    cx: &mut Context<'_>,
    wire: &[u8],
    what: &str,
    validator: Option<u16>,
    port: &str,
) -> Result<String, Error> {
    let dir = cx.home.quarantine().join("frames");
    let name = format!(
        "{}-v{:05}-{what}.frame",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        validator.unwrap_or(0)
    );
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(wire);
    bytes.push(0);
    let (path, sha256) = taps::write_durably(&dir, &name, &bytes)?;
    record_quarantine(cx, &path, &sha256, what, validator, port)
}

fn record_quarantine(
    cx: &mut Context<'_>,
    path: &Path,
    sha256: &str,
    reason: &str,
    validator: Option<u16>,
    port: &str,
) -> Result<String, Error> {
    let rel = relative(cx.home, path);
    cx.reg
        .conn()
        .execute(
            "INSERT INTO quarantine (at, reason, validator, port, file, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                crate::time::now_utc_text(),
                reason,
                validator,
                port,
                rel,
                sha256
            ],
        )
        .map_err(|e| cx.reg.err(e))?;
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kartka_protocol::auth::DEMO_DOCK_MASTER;
    use kartka_protocol::frame::{MAX_WIRE, encode, encode_as};
    use kartka_protocol::message::{ErrorFrame, Hello};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn hello() -> Hello {
        Hello {
            protocol: PROTOCOL_VERSION,
            validator: 7,
            firmware: [0, 1, 0],
            clock: 0,
            oldest: 1,
            next: 1,
            acked_below: 1,
            free_records: 1000,
            blocklist_version: 0,
            settings_version: 0,
            validator_nonce: 5,
        }
    }

    /// Docks against a peer that answers the first `Hi` with `reply`.
    fn dock_against(reply: Vec<u8>) -> (Result<(), Error>, Report) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        home.create_dirs().unwrap();
        let mut reg = Registry::open(&home.registry()).unwrap();
        let mut held = Held::default();
        let mut config = Config::default_config();
        config.dock.reply_timeout_s = 1;
        let bar = indicatif::ProgressBar::hidden();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut report = Report {
            port: "/dev/ttyTEST".into(),
            ..Report::default()
        };
        let result = rt.block_on(async {
            let (host, mut peer) = tokio::io::duplex(1 << 16);
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                if peer.read(&mut buf).await.is_ok() {
                    let _ = peer.write_all(&reply).await;
                }
                // Stay silent, with the line open.
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(peer);
            });
            let mut link = Link::new(host);
            let mut cx = Context {
                home: &home,
                reg: &mut reg,
                held: &mut held,
                config: &config,
                master: DEMO_DOCK_MASTER,
                operator: "test",
                progress: &bar,
            };
            dock(&mut cx, &mut link, &mut report).await
        });
        (result, report)
    }

    #[test]
    fn a_validator_on_another_protocol_version_is_refused_by_name() {
        let key = validator_key(&DEMO_DOCK_MASTER, 7);
        let mut out = [0u8; MAX_WIRE];
        let n = encode_as(
            2,
            &Message::Hello(hello()),
            &key,
            Session::default(),
            &mut out,
        )
        .unwrap();
        let (r, _) = dock_against(out[..n].to_vec());
        let e = r.unwrap_err();
        assert!(matches!(e, Error::Version { theirs: 2, .. }), "{e:?}");
        assert_eq!(
            e.to_string().lines().next().unwrap(),
            "/dev/ttyTEST: the validator speaks protocol version 2; this kartka speaks 1."
        );
        // It may also say so in a version-1 error frame.
        let reply = Message::Error(ErrorFrame {
            code: ErrorCode::Version,
            detail: 3,
        });
        let n = encode(&reply, &key, Session::default(), &mut out).unwrap();
        let (r, _) = dock_against(out[..n].to_vec());
        assert!(matches!(r.unwrap_err(), Error::Version { theirs: 3, .. }));
    }

    #[test]
    fn a_device_that_answers_only_noise_is_not_a_validator() {
        let (r, report) = dock_against(b"\r\nOK\r\n\x00AT\x00garbage\x00".to_vec());
        let e = r.unwrap_err();
        assert!(matches!(e, Error::NoAnswer { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("/dev/ttyTEST: no validator answered")
        );
        assert_eq!(report.frames_damaged, 3);
        assert!(report.validator.is_none());
    }
}

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
    /// Vendor rows the validator's signed taps replaced (in quarantine).
    pub taps_replaced: usize,
    /// Taps that differ from signed taps stored under their numbers: kept
    /// in quarantine and left on the validator (not acked).
    pub taps_conflict: usize,
    pub conflicts: Vec<crate::taps::conflict::Quarantined>,
    pub batches_rejected: usize,
    pub acked_up_to: Option<u32>,
    pub dump: Option<String>,
    pub blocklist_pushed: Option<u32>,
    pub settings_pushed: Option<u32>,
    pub frames_damaged: usize,
    pub seconds: f64,
}

/// One docking under way: the link, the session once the validator said
/// hello, and the report it fills in.
struct Docking<'c, 'x, S> {
    cx: &'c mut Context<'x>,
    link: &'c mut Link<S>,
    report: &'c mut Report,
    port: String,
    /// How long to wait for a reply before asking again.
    wait: Duration,
    session: Session,
    /// The validator's key (known after its hello).
    key: DockKey,
}

/// The taps a docking read, as frames and as records.
#[derive(Default)]
struct Read {
    records: Vec<TapRecord>,
    /// The accepted batch frames, each between zero bytes, for the dump.
    frames: Vec<u8>,
    frame_count: u32,
    /// A batch whose MAC failed (its wire bytes and frame number): reading
    /// stopped there.
    forged: Option<(Vec<u8>, u64)>,
    /// The next sequence number wanted.
    expected: u32,
}

/// Docks one validator: its hello, its clock, its taps (stored durably,
/// then acked), the blocklist and its settings. `report` holds what was
/// done even when it fails part way.
pub async fn dock<S: AsyncRead + AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    link: &mut Link<S>,
    report: &mut Report,
) -> Result<(), Error> {
    let wait = Duration::from_secs(u64::from(cx.config.dock.reply_timeout_s.max(1)));
    let mut d = Docking {
        port: report.port.clone(),
        cx,
        link,
        report,
        wait,
        session: Session {
            host_nonce: rand::random(),
            validator_nonce: 0,
        },
        key: [0; 16],
    };
    let hello = d.hello().await?;
    let id = hello.validator;
    d.report.validator = Some(id);
    d.report.firmware = Some(format!(
        "{}.{}.{}",
        hello.firmware[0], hello.firmware[1], hello.firmware[2]
    ));
    let info = crate::fleet::validator(d.cx.reg, id)?;
    d.clock(&hello, info.is_some()).await?;
    let read = d.read(&hello).await?;
    d.report.taps_read = read.records.len();
    if !read.records.is_empty() {
        d.store_and_ack(id, info.as_ref(), &read).await?;
    }
    if let Some((raw, frame)) = &read.forged {
        let file = quarantine(d.cx, raw, "batch-mac", Some(id), &d.port)?;
        return Err(Error::BadMac {
            port: d.port.clone(),
            validator: id,
            frame: *frame,
            what: format!("the batch after seq {}", read.expected.saturating_sub(1)),
            file,
        });
    }
    let Some(info) = info else {
        return Err(Error::UnknownValidator {
            port: d.port.clone(),
            validator: id,
            taps: 0,
            file: String::new(),
        });
    };
    d.blocklist(&hello).await?;
    d.settings(&hello, &info).await?;
    match d.report.conflicts.first() {
        Some(first) => Err(Error::Conflict {
            port: d.port.clone(),
            validator: id,
            taps: d.report.taps_conflict,
            first: Box::new(first.clone()),
            acked: d.report.acked_up_to,
        }),
        None => Ok(()),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Docking<'_, '_, S> {
    fn gone(&self, at: &str, e: LinkError) -> Error {
        let LinkError::Gone(why) = e;
        Error::Unplugged {
            port: self.port.clone(),
            at: at.to_string(),
            why,
            acked: None,
        }
    }

    /// 1. Hi, until the validator says hello with a MAC its key checks;
    ///    the session is then set.
    async fn hello(&mut self) -> Result<Hello, Error> {
        let host_nonce = self.session.host_nonce;
        for _ in 0..RETRIES {
            self.link
                .send(&Message::Hi { host_nonce }, &[0; 16], self.session)
                .await
                .map_err(|e| self.gone("hi", e))?;
            while let Some(mut raw) = self
                .link
                .next_frame(self.wait)
                .await
                .map_err(|e| self.gone("hello", e))?
            {
                let kept = raw.clone();
                match decode_wire(&mut raw) {
                    Ok(d) => match d.message {
                        Message::Hello(h) => {
                            let key = validator_key(&self.cx.master, h.validator);
                            let s = Session {
                                host_nonce,
                                validator_nonce: h.validator_nonce,
                            };
                            if d.verify(&key, s).is_err() {
                                let file = quarantine(
                                    self.cx,
                                    &kept,
                                    "hello-mac",
                                    Some(h.validator),
                                    &self.port,
                                )?;
                                return Err(Error::BadMac {
                                    port: self.port.clone(),
                                    validator: h.validator,
                                    frame: self.link.frames_in,
                                    what: "its hello".into(),
                                    file,
                                });
                            }
                            if h.protocol != PROTOCOL_VERSION {
                                return Err(Error::Version {
                                    port: self.port.clone(),
                                    theirs: u32::from(h.protocol),
                                });
                            }
                            (self.session, self.key) = (s, key);
                            return Ok(h);
                        }
                        Message::Error(e) if e.code == ErrorCode::Version => {
                            return Err(Error::Version {
                                port: self.port.clone(),
                                theirs: e.detail,
                            });
                        }
                        _ => {}
                    },
                    Err(FrameError::Version { got }) => {
                        return Err(Error::Version {
                            port: self.port.clone(),
                            theirs: u32::from(got),
                        });
                    }
                    Err(_) => self.report.frames_damaged += 1,
                }
            }
        }
        Err(Error::NoAnswer {
            port: self.port.clone(),
            frames: self.link.frames_in,
            bytes: self.link.bytes_in,
        })
    }

    /// 2. The clock: its drift is reported; a registered validator's clock
    ///    that is unset or off by more than allowed is set.
    async fn clock(&mut self, hello: &Hello, registered: bool) -> Result<(), Error> {
        let now = Utc::now().timestamp();
        self.report.drift_s = (hello.clock != 0).then(|| i64::from(hello.clock) - now);
        let off = self
            .report
            .drift_s
            .is_none_or(|d| d.unsigned_abs() > u64::from(self.cx.config.dock.max_clock_drift_s));
        if registered && off {
            let utc = Utc::now().timestamp() as u32;
            self.request(&Message::SetTime { utc }, |d| {
                matches!(d, Done::TimeSet { .. })
            })
            .await?;
            self.report.clock_fixed = true;
        }
        Ok(())
    }

    /// 3. The taps, from the oldest unacked on, asked for again after
    ///    silence; a batch out of order is dropped (the new stream brings
    ///    it again), a batch whose MAC fails ends the reading.
    async fn read(&mut self, hello: &Hello) -> Result<Read, Error> {
        let (id, end) = (hello.validator, hello.next);
        let mut read = Read {
            expected: hello.oldest,
            ..Read::default()
        };
        self.cx
            .progress
            .set_length(u64::from(end.saturating_sub(read.expected)));
        self.cx.progress.set_message(format!("validator {id}"));
        let mut idle = 0;
        while read.expected < end && read.forged.is_none() {
            let before = read.expected;
            self.read_stream(hello, &mut read).await?;
            if read.forged.is_some() {
                break;
            }
            if read.expected == before {
                idle += 1;
                if idle >= RETRIES {
                    return Err(Error::Unplugged {
                        port: self.port.clone(),
                        at: format!("batch at seq {}", read.expected),
                        why: format!("no usable batch after {RETRIES} requests"),
                        acked: None,
                    });
                }
            } else {
                idle = 0;
            }
        }
        Ok(read)
    }

    /// One `ReadFrom` and the batches that answer it, until the last one,
    /// silence or a forged batch.
    async fn read_stream(&mut self, hello: &Hello, read: &mut Read) -> Result<(), Error> {
        let (id, end) = (hello.validator, hello.next);
        self.link
            .send(
                &Message::ReadFrom { seq: read.expected },
                &self.key,
                self.session,
            )
            .await
            .map_err(|e| self.gone("read-from", e))?;
        loop {
            let at = format!(
                "frame {} (the batch from seq {})",
                self.link.frames_in + 1,
                read.expected
            );
            let Some(mut raw) = self
                .link
                .next_frame(self.wait)
                .await
                .map_err(|e| self.gone(&at, e))?
            else {
                return Ok(()); // silence: ask again from where we are
            };
            let kept = raw.clone();
            let Ok(d) = decode_wire(&mut raw) else {
                self.report.frames_damaged += 1;
                continue;
            };
            match &d.message {
                Message::Batch(b) => {
                    if d.verify(&self.key, self.session).is_err() {
                        self.report.batches_rejected += 1;
                        read.forged = Some((kept, self.link.frames_in));
                        return Ok(());
                    }
                    let recs = self.records(b.records)?;
                    let fits = recs.first().is_some_and(|r| r.seq == read.expected)
                        && recs
                            .iter()
                            .enumerate()
                            .all(|(i, r)| r.seq == read.expected + i as u32 && r.validator == id);
                    if fits {
                        read.expected += recs.len() as u32;
                        read.frames.push(0);
                        read.frames.extend_from_slice(&kept);
                        read.frames.push(0);
                        read.frame_count += 1;
                        read.records.extend(recs);
                        self.cx
                            .progress
                            .set_position(u64::from(read.expected - hello.oldest));
                    }
                    if b.last || read.expected >= end {
                        return Ok(());
                    }
                }
                Message::Error(e) => {
                    return Err(Error::Refused {
                        port: self.port.clone(),
                        validator: id,
                        frame: self.link.frames_in,
                        what: e.code.describe().into(),
                        detail: e.detail,
                    });
                }
                _ => {}
            }
        }
    }

    /// A batch's packed records.
    fn records(&self, packed: &[u8]) -> Result<Vec<TapRecord>, Error> {
        TapRecord::iter_packed(packed)
            .map(|r| {
                r.map_err(|e| Error::Protocol {
                    port: self.port.clone(),
                    frame: self.link.frames_in,
                    why: e.to_string(),
                })
            })
            .collect()
    }

    /// 4. The taps stored durably (the raw dump, Parquet, the ledger),
    ///    then acked. An unknown validator's dump goes to quarantine and
    ///    nothing is acked.
    async fn store_and_ack(
        &mut self,
        id: u16,
        info: Option<&crate::fleet::ValidatorInfo>,
        read: &Read,
    ) -> Result<(), Error> {
        let records = &read.records;
        let header = dump::Header {
            validator: id,
            session: self.session,
            received_at: Utc::now().timestamp(),
            seq_first: records[0].seq,
            seq_last: records[records.len() - 1].seq,
            taps: records.len() as u32,
            frames: read.frame_count,
        };
        let Some(info) = info else {
            let dir = self.cx.home.quarantine().join("unknown-validators");
            let (path, sha256) = dump::write(&dir, &header, &read.frames)?;
            let rel = record_quarantine(
                self.cx,
                &path,
                &sha256,
                "unknown validator",
                Some(id),
                &self.port,
            )?;
            return Err(Error::UnknownValidator {
                port: self.port.clone(),
                validator: id,
                taps: records.len(),
                file: rel,
            });
        };
        let dir = self.cx.home.dumps().join(format!("v{id:05}"));
        let (path, sha256) = dump::write(&dir, &header, &read.frames)?;
        crate::failpoint::hit("dock-after-dump");
        let rel = relative(self.cx.home, &path);
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
        let cx = &mut *self.cx;
        let stored = taps::ingest(cx.home, cx.reg, cx.held, taps, &source, cx.operator)?;
        crate::failpoint::hit("dock-before-ack");
        self.report.taps_new = stored.taps_new;
        self.report.taps_duplicate = stored.taps_duplicate;
        self.report.taps_replaced = stored.taps_replaced;
        self.report.taps_conflict = stored.taps_conflict;
        self.report.conflicts = stored
            .quarantined
            .into_iter()
            .filter(|q| q.kind == "refused")
            .collect();
        self.report.dump = Some(rel);
        // A conflicting tap is never acked: the validator keeps it, and
        // everything after it, until the conflict is resolved.
        let up_to = match stored.first_conflict {
            None => header.seq_last,
            Some(c) if c > header.seq_first => c - 1,
            Some(_) => return Ok(()),
        };
        self.request(
            &Message::Ack { up_to },
            |d| matches!(d, Done::Acked { up_to: u } if *u == up_to),
        )
        .await?;
        self.report.acked_up_to = Some(up_to);
        Ok(())
    }

    /// 5. The blocklist, in chunks, if the validator's is older.
    async fn blocklist(&mut self, hello: &Hello) -> Result<(), Error> {
        let Some(list) = crate::cards::blocklist::latest(self.cx.reg)? else {
            return Ok(());
        };
        if hello.blocklist_version >= list.version {
            return Ok(());
        }
        let chunks = list.chunk_bytes();
        for i in 0..chunks.len() {
            let msg = Message::PutBlocklist(list.message(i, &chunks));
            self.request(
                &msg,
                |d| matches!(d, Done::Blocklist { chunk, .. } if usize::from(*chunk) == i),
            )
            .await?;
        }
        self.report.blocklist_pushed = Some(list.version);
        Ok(())
    }

    /// 6. Its settings (vehicle, carrier, routes, zone, repeat timeout,
    ///    Kyiv's UTC offset now), if they differ from the registry's.
    async fn settings(
        &mut self,
        hello: &Hello,
        info: &crate::fleet::ValidatorInfo,
    ) -> Result<(), Error> {
        if info.settings_version != 0 && info.settings_version == hello.settings_version {
            return Ok(());
        }
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
            timeout_s: self.cx.config.dock.repeat_timeout_s,
            utc_offset_min: offset as i16,
        };
        self.request(
            &Message::PutSettings(settings),
            |d| matches!(d, Done::Settings { version: v } if *v == version),
        )
        .await?;
        crate::fleet::set_settings_version(self.cx.reg, hello.validator, version)?;
        self.report.settings_pushed = Some(version);
        Ok(())
    }

    /// Sends a command and waits for its `Done`, sending it again after
    /// silence. An `Error` reply is the validator refusing.
    async fn request(
        &mut self,
        msg: &Message<'_>,
        done: impl Fn(&Done) -> bool,
    ) -> Result<(), Error> {
        for _ in 0..RETRIES {
            self.link
                .send(msg, &self.key, self.session)
                .await
                .map_err(|e| self.gone(msg.name(), e))?;
            while let Some(mut raw) = self
                .link
                .next_frame(self.wait)
                .await
                .map_err(|e| self.gone(msg.name(), e))?
            {
                let Ok(d) = decode_wire(&mut raw) else {
                    self.report.frames_damaged += 1;
                    continue;
                };
                if d.verify(&self.key, self.session).is_err() {
                    self.report.frames_damaged += 1;
                    continue;
                }
                match d.message {
                    Message::Done(x) if done(&x) => return Ok(()),
                    Message::Error(e) => {
                        return Err(Error::Refused {
                            port: self.port.clone(),
                            validator: self.report.validator.unwrap_or(0),
                            frame: self.link.frames_in,
                            what: format!("{}: {}", msg.name(), e.code.describe()),
                            detail: e.detail,
                        });
                    }
                    _ => {}
                }
            }
        }
        Err(Error::Unplugged {
            port: self.port.clone(),
            at: msg.name().to_string(),
            why: format!("no answer after {RETRIES} tries"),
            acked: None,
        })
    }
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

use super::*;
use crate::validator::tests::{T0, TestValidator, validator};
use kartka_protocol::auth::DockKey;
use kartka_protocol::message::{BlocklistChunk, Settings};
use kartka_protocol::{TapRecord, TapResult, Uid};
use std::vec::Vec;

struct TestClock(Option<u32>);

impl Clock for TestClock {
    fn now(&self) -> Option<u32> {
        self.0
    }
    fn set(&mut self, utc: u32) {
        self.0 = Some(utc);
    }
}

/// A reply, owned: the message re-encoded, and the raw frame.
#[derive(Debug)]
struct Reply {
    wire: Vec<u8>,
}

/// The host's side of the conversation.
struct Host {
    key: DockKey,
    session: Session,
    dock: Dock,
    clock: TestClock,
    v: TestValidator,
}

impl Host {
    fn new(v: TestValidator) -> Host {
        Host {
            key: *v.dock_key(),
            session: Session::default(),
            dock: Dock::new(42),
            clock: TestClock(Some(T0)),
            v,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Vec<Reply> {
        let mut replies = Vec::new();
        let mut send = |b: &[u8]| {
            replies.push(Reply { wire: b.to_vec() });
            true
        };
        self.dock
            .on_bytes(&mut self.v, &mut self.clock, bytes, &mut send)
            .unwrap();
        replies
    }

    fn send(&mut self, msg: &Message<'_>) -> Vec<Reply> {
        let mut out = [0u8; MAX_WIRE];
        let n = frame::encode(msg, &self.key, self.session, &mut out).unwrap();
        self.send_raw(&out[..n])
    }

    /// Decodes and MAC-checks a reply, handing its message to `f`.
    fn open<T>(&self, reply: &Reply, f: impl FnOnce(&Message<'_>) -> T) -> T {
        let mut reader = FrameReader::new();
        let frame = reader
            .push(&reply.wire[1..])
            .1
            .expect("a whole frame")
            .expect("a good frame");
        frame
            .verify(&self.key, self.session)
            .expect("the reply's MAC");
        f(&frame.message)
    }

    fn hello(&mut self, host_nonce: u32) -> Hello {
        self.session = Session {
            host_nonce,
            validator_nonce: 0,
        };
        let replies = self.send(&Message::Hi { host_nonce });
        assert_eq!(replies.len(), 1);
        let mut reader = FrameReader::new();
        let frame = reader.push(&replies[0].wire[1..]).1.unwrap().unwrap();
        let Message::Hello(hello) = frame.message else {
            panic!("{:?}", frame.message)
        };
        self.session.validator_nonce = hello.validator_nonce;
        frame.verify(&self.key, self.session).expect("hello MAC");
        hello
    }

    fn one(&mut self, msg: &Message<'_>) -> Message<'static> {
        let replies = self.send(msg);
        assert_eq!(replies.len(), 1, "{replies:?}");
        self.open(&replies[0], |m| match m {
            Message::Done(d) => Message::Done(*d),
            Message::Error(e) => Message::Error(*e),
            other => panic!("{other:?}"),
        })
    }

    fn read_from(&mut self, seq: u32) -> (Vec<TapRecord>, Vec<usize>) {
        let replies = self.send(&Message::ReadFrom { seq });
        let mut records = Vec::new();
        let mut sizes = Vec::new();
        for (i, reply) in replies.iter().enumerate() {
            self.open(reply, |m| {
                let Message::Batch(b) = m else {
                    panic!("{m:?}")
                };
                assert_eq!(b.last, i + 1 == replies.len());
                sizes.push(b.records.len() / RECORD_LEN);
                records.extend(TapRecord::iter_packed(b.records).map(Result::unwrap));
            });
        }
        (records, sizes)
    }
}

fn log_taps(v: &mut TestValidator, n: u32) {
    for i in 0..n {
        let r = TapRecord {
            validator: v.id,
            seq: 0,
            time: T0 + i,
            card: 100 + i,
            uid: Uid::four([1, 2, 3, 4]),
            vehicle: 12,
            route: 5,
            zone: 1,
            result: TapResult::Accepted,
            trips: 1,
        };
        v.log.append(r).unwrap();
    }
}

fn error_of(m: &Message<'_>) -> (ErrorCode, u32) {
    match m {
        Message::Error(e) => (e.code, e.detail),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_docking_reads_acks_and_configures() {
    let mut v = validator(9, 12);
    log_taps(&mut v, 100);
    let mut host = Host::new(v);
    let hello = host.hello(0xABCD);
    assert_eq!(
        (hello.validator, hello.protocol, hello.firmware),
        (9, 1, [0, 1, 0])
    );
    assert_eq!(
        (hello.oldest, hello.next, hello.acked_below, hello.clock),
        (1, 101, 1, T0)
    );
    assert_eq!(hello.settings_version, 1);
    let (records, sizes) = host.read_from(hello.acked_below);
    assert_eq!(sizes, [32, 32, 32, 4]);
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    assert_eq!(records[41].card, 141);
    assert_eq!(
        host.one(&Message::Ack { up_to: 100 }),
        Message::Done(Done::Acked { up_to: 100 })
    );
    assert_eq!(
        error_of(&host.one(&Message::Ack { up_to: 101 })),
        (ErrorCode::AckAhead, 101)
    );
    assert_eq!(
        host.one(&Message::SetTime { utc: T0 + 77 }),
        Message::Done(Done::TimeSet { utc: T0 + 77 })
    );
    assert_eq!(host.clock.0, Some(T0 + 77));
    let s = Settings {
        version: 2,
        route: 7,
        ..crate::validator::tests::settings(12)
    };
    assert_eq!(
        host.one(&Message::PutSettings(s)),
        Message::Done(Done::Settings { version: 2 })
    );
    assert_eq!(host.v.settings(), Some(s));
    let bad = Settings { route: 99, ..s };
    assert_eq!(
        error_of(&host.one(&Message::PutSettings(bad))).0,
        ErrorCode::SettingsInvalid
    );
    let cards: Vec<u8> = [5u32, 6].iter().flat_map(|c| c.to_le_bytes()).collect();
    let chunk = |n, cards| {
        Message::PutBlocklist(BlocklistChunk {
            version: 3,
            chunk: n,
            chunks: 2,
            total: 2,
            cards,
        })
    };
    assert_eq!(
        host.one(&chunk(0, &cards[..4])),
        Message::Done(Done::Blocklist {
            version: 3,
            chunk: 0,
            active: false
        })
    );
    assert_eq!(
        error_of(&host.one(&chunk(5, &cards[4..]))),
        (ErrorCode::ChunkOrder, 1)
    );
    assert_eq!(
        host.one(&chunk(1, &cards[4..])),
        Message::Done(Done::Blocklist {
            version: 3,
            chunk: 1,
            active: true
        })
    );
    // A new session sees all of it.
    let hello = host.hello(0x1234);
    assert_eq!(
        (
            hello.oldest,
            hello.acked_below,
            hello.blocklist_version,
            hello.settings_version
        ),
        (101, 101, 3, 2)
    );
    assert_eq!(host.read_from(hello.acked_below).0, []);
    assert_eq!(
        host.read_from(90).0.len(),
        11,
        "acked records still in flash can be read again"
    );
}

#[test]
fn nothing_but_hi_works_without_a_session_or_with_a_wrong_mac() {
    let mut host = Host::new(validator(9, 12));
    let reply = host.one(&Message::SetTime { utc: 1 });
    assert_eq!(error_of(&reply).0, ErrorCode::NoSession);
    host.hello(5);
    let good = host.session;
    host.key = [0xEE; 16];
    let replies = host.send(&Message::SetTime { utc: 1 });
    host.key = *host.v.dock_key();
    assert_eq!(host.open(&replies[0], error_of).0, ErrorCode::Mac);
    // A frame recorded in one session is refused in the next.
    let mut recorded = [0u8; MAX_WIRE];
    let n = frame::encode(&Message::SetTime { utc: 1 }, &host.key, good, &mut recorded).unwrap();
    host.hello(6);
    let replies = host.send_raw(&recorded[..n]);
    assert_eq!(host.open(&replies[0], error_of).0, ErrorCode::Mac);
    assert_eq!(host.clock.0, Some(T0), "the clock was never set");
}

#[test]
fn a_newer_host_is_told_the_version_spoken() {
    let mut host = Host::new(validator(9, 12));
    let mut out = [0u8; MAX_WIRE];
    let n = frame::encode_as(
        2,
        &Message::Hi { host_nonce: 1 },
        &host.key,
        host.session,
        &mut out,
    )
    .unwrap();
    let replies = host.send_raw(&out[..n]);
    assert_eq!(host.open(&replies[0], error_of), (ErrorCode::Version, 1));
}

#[test]
fn noise_is_ignored_and_the_next_frame_is_served() {
    let mut host = Host::new(validator(9, 12));
    let mut out = [0u8; MAX_WIRE];
    let n = frame::encode(
        &Message::Hi { host_nonce: 1 },
        &host.key,
        host.session,
        &mut out,
    )
    .unwrap();
    let mut stream = std::vec![0x13u8, 0x55, 0x00, 0xFF, 0x01];
    stream.extend_from_slice(&out[..n]);
    let replies = host.send_raw(&stream);
    assert_eq!(replies.len(), 1);
    let mut reader = FrameReader::new();
    let frame = reader.push(&replies[0].wire[1..]).1.unwrap().unwrap();
    assert!(
        matches!(frame.message, Message::Hello(_)),
        "{:?}",
        frame.message
    );
}

#[test]
fn a_link_lost_mid_dump_frees_nothing_and_the_next_docking_gets_everything() {
    let mut v = validator(9, 12);
    log_taps(&mut v, 70);
    let mut host = Host::new(v);
    host.hello(1);
    let mut out = [0u8; MAX_WIRE];
    let n = frame::encode(
        &Message::ReadFrom { seq: 1 },
        &host.key,
        host.session,
        &mut out,
    )
    .unwrap();
    let mut sent = 0;
    let mut send = |_: &[u8]| {
        sent += 1;
        sent < 2
    };
    assert_eq!(
        host.dock
            .on_bytes(&mut host.v, &mut host.clock, &out[..n], &mut send),
        Err(LinkDown)
    );
    host.dock.link_lost();
    let hello = host.hello(2);
    assert_eq!(hello.acked_below, 1);
    assert_eq!(host.read_from(hello.acked_below).0.len(), 70);
}

#[test]
fn a_hello_from_the_host_side_is_unexpected() {
    let mut host = Host::new(validator(9, 12));
    host.hello(3);
    let reply = host.one(&Message::Done(Done::TimeSet { utc: 0 }));
    assert_eq!(error_of(&reply).0, ErrorCode::Unexpected);
}

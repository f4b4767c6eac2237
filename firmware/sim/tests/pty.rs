//! The simulator end to end: a real pseudo-terminal, the dock protocol
//! spoken from the host side, and the faults the dock must survive.

use kartka_protocol::auth::{DEMO_DOCK_MASTER, DockKey, Session, validator_key};
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::{Done, Hello, Message};
use kartka_protocol::{FrameError, FrameReader, TapRecord, TapResult};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Sim {
    child: Child,
    port: File,
}

impl Sim {
    fn start(state: &Path, extra: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kartka-sim"))
            .arg("serve")
            .arg("--state")
            .arg(state)
            .args(["--idle-exit", "10"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let path = line.trim();
        assert!(path.starts_with("/dev/pts/"), "{line:?}");
        let port = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        let mut t = tcgetattr(&port).unwrap();
        cfmakeraw(&mut t);
        tcsetattr(&port, SetArg::TCSANOW, &t).unwrap();
        Sim { child, port }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the host got back from one request.
#[derive(Debug, Default)]
struct Got {
    hello: Option<Hello>,
    records: Vec<TapRecord>,
    last_batch: bool,
    done: Vec<Done>,
    errors: Vec<FrameError>,
    /// The link went down (EOF or EIO).
    hung_up: bool,
}

struct Host {
    key: DockKey,
    session: Session,
    reader: FrameReader,
}

impl Host {
    fn new(validator: u16) -> Host {
        Host {
            key: validator_key(&DEMO_DOCK_MASTER, validator),
            session: Session::default(),
            reader: FrameReader::new(),
        }
    }

    fn send(&self, port: &mut File, msg: &Message<'_>) {
        let mut out = [0u8; MAX_WIRE];
        let n = encode(msg, &self.key, self.session, &mut out).unwrap();
        port.write_all(&out[..n]).unwrap();
    }

    /// Reads until `until` says the conversation step is over, or 3 s pass
    /// without a byte.
    fn receive(&mut self, port: &mut File, until: impl Fn(&Got) -> bool) -> Got {
        let mut got = Got::default();
        let mut buf = [0u8; 4096];
        while !until(&got) {
            let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(3000u16)).unwrap() == 0 {
                break;
            }
            let n = match port.read(&mut buf) {
                Ok(0) | Err(_) => {
                    got.hung_up = true;
                    break;
                }
                Ok(n) => n,
            };
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                let (used, frame) = self.reader.push(rest);
                rest = &rest[used..];
                match frame {
                    None => {}
                    Some(Err(e)) => got.errors.push(e),
                    Some(Ok(d)) => {
                        let session = match &d.message {
                            Message::Hello(h) => Session {
                                validator_nonce: h.validator_nonce,
                                ..self.session
                            },
                            _ => self.session,
                        };
                        if let Err(e) = d.verify(&self.key, session) {
                            got.errors.push(e);
                            continue;
                        }
                        match d.message {
                            Message::Hello(h) => {
                                self.session = session;
                                got.hello = Some(h);
                            }
                            Message::Batch(b) => {
                                got.records
                                    .extend(TapRecord::iter_packed(b.records).map(Result::unwrap));
                                got.last_batch = b.last;
                            }
                            Message::Done(d) => got.done.push(d),
                            other => panic!("{other:?}"),
                        }
                    }
                }
            }
        }
        got
    }

    fn hello(&mut self, port: &mut File, nonce: u32) -> Hello {
        self.session = Session {
            host_nonce: nonce,
            validator_nonce: 0,
        };
        self.send(port, &Message::Hi { host_nonce: nonce });
        self.receive(port, |g| g.hello.is_some())
            .hello
            .expect("a hello")
    }
}

#[test]
fn a_docking_over_a_pseudo_terminal_reads_every_tap_and_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::start(dir.path(), &["--generate", "700", "--validator", "31"]);
    let mut host = Host::new(31);
    let hello = host.hello(&mut sim.port, 77);
    assert_eq!(
        (hello.validator, hello.oldest, hello.next, hello.acked_below),
        (31, 1, 701, 1)
    );
    host.send(
        &mut sim.port,
        &Message::ReadFrom {
            seq: hello.acked_below,
        },
    );
    let got = host.receive(&mut sim.port, |g| g.last_batch);
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.records.len(), 700);
    assert!(
        got.records
            .iter()
            .enumerate()
            .all(|(i, r)| r.seq == i as u32 + 1 && r.validator == 31 && r.vehicle == 1012)
    );
    assert!(got.records.iter().any(|r| r.result == TapResult::Repeat));
    assert!(
        got.records
            .iter()
            .all(|r| matches!(r.result, TapResult::Accepted | TapResult::Repeat))
    );
    host.send(&mut sim.port, &Message::Ack { up_to: 700 });
    let got = host.receive(&mut sim.port, |g| !g.done.is_empty());
    assert_eq!(got.done, [Done::Acked { up_to: 700 }]);
    drop(sim);
    // The validator remembers, as after a power cycle.
    let mut sim = Sim::start(dir.path(), &["--validator", "31"]);
    let hello = host.hello(&mut sim.port, 78);
    assert_eq!(
        (hello.oldest, hello.next, hello.acked_below),
        (701, 701, 701)
    );
}

#[test]
fn an_unplugged_cable_mid_dump_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::start(dir.path(), &["--generate", "500", "--drop-after", "3000"]);
    let mut host = Host::new(7);
    host.hello(&mut sim.port, 1);
    host.send(&mut sim.port, &Message::ReadFrom { seq: 1 });
    let got = host.receive(&mut sim.port, |g| g.last_batch || g.hung_up);
    assert!(got.hung_up, "the host sees the link go down");
    assert!(!got.last_batch);
    assert!(got.records.len() < 500, "{}", got.records.len());
    assert_eq!(sim.child.wait().unwrap().code(), Some(3));
    // Plugged in again: nothing was acked, so everything is still there.
    let mut sim = Sim::start(dir.path(), &[]);
    let mut host = Host::new(7);
    let hello = host.hello(&mut sim.port, 2);
    assert_eq!((hello.acked_below, hello.next), (1, 501));
    host.send(&mut sim.port, &Message::ReadFrom { seq: 1 });
    assert_eq!(
        host.receive(&mut sim.port, |g| g.last_batch).records.len(),
        500
    );
}

#[test]
fn flipped_bits_are_caught_never_taken() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::start(dir.path(), &["--generate", "300", "--flip-every", "2000"]);
    let mut host = Host::new(7);
    // The hello is short enough to get through before the first flip.
    host.hello(&mut sim.port, 9);
    host.send(&mut sim.port, &Message::ReadFrom { seq: 1 });
    let got = host.receive(&mut sim.port, |g| g.last_batch);
    assert!(!got.errors.is_empty(), "a damaged batch is reported");
    assert!(
        got.errors
            .iter()
            .all(|e| matches!(e, FrameError::Crc | FrameError::Cobs | FrameError::Short(_))),
        "{:?}",
        got.errors
    );
    assert!(got.records.len() < 300);
    // Every record that did arrive is a true one.
    for r in &got.records {
        assert_eq!(r.validator, 7);
        assert!((1..=300).contains(&r.seq));
    }
}

#[test]
fn a_wrong_key_is_refused_by_the_validator() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::start(dir.path(), &["--generate", "5"]);
    let mut host = Host::new(8);
    // Validator 7's frames under validator 8's key: the host refuses them.
    host.session = Session {
        host_nonce: 4,
        validator_nonce: 0,
    };
    host.send(&mut sim.port, &Message::Hi { host_nonce: 4 });
    let got = host.receive(&mut sim.port, |g| !g.errors.is_empty());
    assert_eq!(got.errors, [FrameError::Mac]);
}

#[test]
fn a_bad_tap_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let taps = dir.path().join("taps.csv");
    std::fs::write(&taps, "2026-10-01T06:00:00+03:00,10000001\nnoon,10000002\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kartka-sim"))
        .args(["serve", "--no-serve", "--state"])
        .arg(dir.path().join("st"))
        .arg("--taps")
        .arg(&taps)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("taps.csv:2: `noon` is not a time"), "{err}");
}

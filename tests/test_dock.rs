//! `kartka dock` against `kartka-sim` (the real validator core) on a real
//! pseudo-terminal, and the faults of issue 6. After each: every tap the
//! validator recorded is in the store exactly once, and the validator still
//! holds whatever was not acked.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng};

use crate::common::Home;
use crate::common::sim::{Sim, dock, recorded};
use crate::common::store::{assert_exactly_once, fleet, stored};

/// The validator numbers its taps from 1.
fn keys(validator: i64, n: i64) -> BTreeSet<(i64, i64)> {
    (1..=n).map(|s| (validator, s)).collect()
}

#[test]
fn a_validator_docks_its_taps_once_and_gets_clock_blocklist_and_settings() {
    let h = Home::new();
    fleet(&h);
    let r = h.kartka(&["cards", "blocklist"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = recorded(&h, 300, 7);
    let sim = Sim::start(&h, &state, &["--clock-offset", "3600"]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["validators"], 1);
    assert_eq!(j["taps_new"], 300);
    assert_eq!(j["taps_duplicate"], 0);
    assert_eq!(j["clock_fixed"], 1, "an hour off is past the 60 s bound");
    assert_eq!(j["blocklist_pushed"], 1);
    let d = &j["docked"][0];
    assert_eq!(d["acked_up_to"], 300);
    assert!(
        (3595..=3605).contains(&d["drift_s"].as_i64().unwrap()),
        "{d}"
    );
    assert_eq!(
        d["settings_pushed"], 2,
        "above the version the validator held (1)"
    );
    assert_eq!(
        h.count("SELECT drift_s BETWEEN 3595 AND 3605 FROM dock_sessions WHERE validator = 7"),
        1,
        "the drift is recorded"
    );
    let dump = h.root.join(d["dump"].as_str().unwrap());
    assert!(
        dump.starts_with(h.root.join("dumps/v00007")),
        "{}",
        dump.display()
    );
    assert!(
        dump.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("v00007-s0000000001-0000000300-")
    );
    assert_exactly_once(&h, &keys(7, 300));
    // The carrier is the vehicle's; the trip counter is the card's.
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let df = kartka::taps::parquet::read(
        &home,
        &kartka::taps::parquet::live_files(&reg, None).unwrap(),
    )
    .unwrap();
    let carriers = df.column("carrier_id").unwrap().i32().unwrap();
    assert!(carriers.to_vec().into_iter().all(|c| c == Some(1)));

    // Docked again: nothing new, nothing twice; clock, blocklist and
    // settings are current now.
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        (j["taps_new"].as_u64(), j["taps_duplicate"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(j["clock_fixed"], 0);
    assert_eq!(j["blocklist_pushed"], 0);
    assert!(j["docked"][0]["settings_pushed"].is_null());
    assert_exactly_once(&h, &keys(7, 300));

    // The dump re-imports as nothing new.
    let r = h.kartka(&["--json", "taps", "import", dump.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 0);
    assert_eq!(r.json()["taps_duplicate"], 300);
    sim.stop();
}

#[test]
fn unplugged_at_random_byte_offsets_nothing_is_lost_or_doubled() {
    let h = Home::new();
    fleet(&h);
    let n = 400;
    let state = recorded(&h, n, 7);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261126);
    // A whole dump of 400 taps is about 12,400 bytes on the wire.
    let mut cut_short = 0;
    for _ in 0..8 {
        let at = rng.random_range(10..12_000u64).to_string();
        let sim = Sim::start(&h, &state, &["--drop-after", &at]);
        let r = dock(&h, &sim.port);
        if r.code != 0 {
            cut_short += 1;
            assert_eq!(r.code, 74, "{}", r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("{}: the link was lost", sim.port)),
                "{}",
                r.stderr
            );
            assert!(r.stderr.contains("dock again"), "{}", r.stderr);
        }
        sim.stop();
        // Whatever was stored is stored once.
        let got = stored(&h);
        let unique: BTreeSet<_> = got.iter().collect();
        assert_eq!(got.len(), unique.len());
    }
    assert!(cut_short >= 4, "most trials cut the dump short");
    let sim = Sim::start(&h, &state, &[]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_exactly_once(&h, &keys(7, n as i64));
}

#[test]
fn flipped_bits_and_garbage_between_frames_are_caught_and_never_stored() {
    let h = Home::new();
    fleet(&h);
    let state = recorded(&h, 500, 7);
    let sim = Sim::start(&h, &state, &["--flip-every", "4001", "--garbage"]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert!(
        j["docked"][0]["frames_damaged"].as_u64().unwrap() > 0,
        "{j}"
    );
    sim.stop();
    // Every stored tap is one the validator recorded: compare with a clean
    // docking of a second copy of the same flash.
    assert_exactly_once(&h, &keys(7, 500));
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let df = kartka::taps::parquet::read(
        &home,
        &kartka::taps::parquet::live_files(&reg, None).unwrap(),
    )
    .unwrap();
    let cards = df.column("card_number").unwrap().i64().unwrap();
    assert!(
        cards
            .to_vec()
            .into_iter()
            .all(|c| (10_000_001..10_000_051).contains(&c.unwrap())),
        "a damaged card number got into the store"
    );
}

#[test]
fn a_forged_batch_is_refused_and_quarantined_and_the_batches_before_it_kept() {
    let h = Home::new();
    fleet(&h);
    let state = recorded(&h, 200, 7);
    let sim = Sim::start(&h, &state, &["--forge-batch", "3"]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}: validator 7, frame ", sim.port)),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("MAC of the batch after seq 64 is wrong"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("quarantine/frames/"), "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["batches_rejected"], 1);
    assert_eq!(j["taps_new"], 64, "the two good batches before it");
    assert_eq!(
        h.count("SELECT count(*) FROM quarantine WHERE reason = 'batch-mac'"),
        1
    );
    assert_exactly_once(&h, &keys(7, 64));
    sim.stop();
    // The validator kept the rest: a clean docking brings them.
    let sim = Sim::start(&h, &state, &[]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 136);
    assert_exactly_once(&h, &keys(7, 200));
}

#[test]
fn an_unknown_validator_is_quarantined_not_acked_and_docks_once_registered() {
    let h = Home::new();
    fleet(&h);
    let state = recorded(&h, 50, 77);
    let sim = Sim::start(&h, &state, &["--validator", "77"]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "validator 77 is not registered; 50 taps kept in quarantine/unknown-validators/"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("left on the validator (not acked)"));
    assert_eq!(stored(&h).len(), 0);
    std::fs::write(
        h.work.join("more.csv"),
        "validator,vehicle,carrier,routes\n77,1077,1,5\n",
    )
    .unwrap();
    assert_eq!(h.kartka(&["fleet", "import", "more.csv"]).code, 0);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 50);
    assert_exactly_once(&h, &keys(77, 50));
}

#[test]
fn a_wrong_dock_key_is_refused_at_hello() {
    let h = Home::new();
    fleet(&h);
    let state = recorded(&h, 10, 7);
    // An explicit --dock-master wins over the home's key in the environment.
    let sim = Sim::start(
        &h,
        &state,
        &["--dock-master", "00112233445566778899aabbccddeeff"],
    );
    let r = dock(&h, &sim.port);
    sim.stop();
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("the MAC of its hello is wrong"),
        "{}",
        r.stderr
    );
    assert_eq!(stored(&h).len(), 0);
}

#[test]
fn kill_9_between_receiving_and_acking_never_loses_or_doubles_a_tap() {
    let h = Home::new();
    fleet(&h);
    let n = 300;
    let state = recorded(&h, n, 7);
    for point in ["dock-after-dump", "ingest-before-commit", "dock-before-ack"] {
        let sim = Sim::start(&h, &state, &[]);
        let out = h
            .command()
            .args(["dock", "--port", &sim.port])
            .env("KARTKA_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}: killed by a signal");
        sim.stop();
        let got = stored(&h);
        let unique: BTreeSet<_> = got.iter().collect();
        assert_eq!(got.len(), unique.len(), "{point}");
    }
    // Killed at random moments too.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for _ in 0..4 {
        let sim = Sim::start(&h, &state, &[]);
        let mut child = h
            .command()
            .args(["dock", "--port", &sim.port])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(5..400)));
        let _ = Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status();
        let _ = child.wait();
        sim.stop();
    }
    let sim = Sim::start(&h, &state, &[]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_exactly_once(&h, &keys(7, n as i64));
    // No stray file is left in the store.
    let files = h.count("SELECT count(*) FROM tap_files WHERE replaced_at IS NULL") as usize;
    let on_disk: usize = std::fs::read_dir(h.root.join("taps"))
        .unwrap()
        .map(|m| std::fs::read_dir(m.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(on_disk, files);
}

#[test]
fn port_errors_name_the_port_and_what_to_do() {
    let h = Home::new();
    fleet(&h);
    let r = h.kartka(&["dock", "--port", "/dev/ttyACM-none"]);
    assert_eq!(r.code, 66);
    assert!(
        r.stderr.contains("/dev/ttyACM-none: no such port"),
        "{}",
        r.stderr
    );
    // Busy: another program holds it with an exclusive open.
    let state = recorded(&h, 5, 7);
    let sim = Sim::start(&h, &state, &[]);
    let held = tokio_serial::new(sim.port.clone(), 115_200).open().unwrap();
    let r = h.kartka(&["dock", "--port", &sim.port]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}: the port is busy", sim.port)),
        "{}",
        r.stderr
    );
    drop(held);
    // Not a validator: a terminal nobody answers on.
    sim.stop();
    let state = recorded(&h, 1, 8);
    let quiet = Sim::start(&h, &state, &["--validator", "8", "--drop-after", "0"]);
    let r = h.kartka(&["dock", "--port", &quiet.port]);
    assert_eq!(r.code, 74, "{}", r.stderr);
    assert!(r.stderr.contains(&quiet.port), "{}", r.stderr);
    // --all with nothing plugged in is not an error for cron.
    let r = h.kartka(&["--json", "dock", "--all", "--ports", "/dev/ttyNONE*"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["validators"], 0);
}

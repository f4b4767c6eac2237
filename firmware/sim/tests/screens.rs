//! The screens (P16) drawn by the validator's own code are the images
//! checked in under firmware/screens/: a change to a screen is a changed
//! PNG in review. `KARTKA_BLESS=1 cargo test -p kartka-sim --test screens`
//! writes the new images after a change meant to be seen.

use std::path::PathBuf;

use kartka_sim::screens::{Frame, gallery, read_png};

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../screens")
}

#[test]
fn every_screen_is_its_checked_in_image() {
    let dir = checked_in();
    let bless = std::env::var_os("KARTKA_BLESS").is_some();
    let mut differ = Vec::new();
    let shown: Vec<&str> = gallery().iter().map(|(n, _)| *n).collect();
    for (name, screen) in gallery() {
        let frame = Frame::of(&screen);
        let path = dir.join(format!("{name}.png"));
        if bless {
            std::fs::write(&path, frame.png()).unwrap();
            continue;
        }
        match read_png(&path) {
            Ok((160, 128, rgb)) if rgb == frame.rgb() => {}
            Ok(_) | Err(_) => {
                let actual = std::env::temp_dir().join(format!("kartka-screen-{name}.png"));
                std::fs::write(&actual, frame.png()).unwrap();
                differ.push(format!("{} (now: {})", path.display(), actual.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "screens differ from their images; look at the new ones, and if the change is meant, \
         run KARTKA_BLESS=1 cargo test -p kartka-sim --test screens:\n{}",
        differ.join("\n")
    );
    // No image of a screen that is gone.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "png") {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            assert!(
                shown.contains(&stem.as_str()),
                "{}: no screen draws it",
                p.display()
            );
        }
    }
}

#[test]
fn kartka_sim_writes_the_same_images() {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kartka-sim"))
        .args(["screens", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (name, screen) in gallery() {
        let (w, h, rgb) = read_png(&out.path().join(format!("{name}.png"))).unwrap();
        assert_eq!((w, h), (160, 128));
        assert!(rgb == Frame::of(&screen).rgb(), "{name}");
    }
}

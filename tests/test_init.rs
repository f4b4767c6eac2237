use std::os::unix::fs::PermissionsExt;

use crate::common::Home;

#[test]
fn init_creates_a_private_registry_and_a_commented_config() {
    let h = Home::new();
    let mode = std::fs::metadata(h.root.join("registry.sqlite"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(&h.root).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o077, 0, "home is private");
    let toml = std::fs::read_to_string(h.root.join("kartka.toml")).unwrap();
    assert!(toml.contains("# "), "the config is commented");
    assert!(toml.contains("UA12120130000022766"));
    assert!(toml.contains("limit_uah = 4660"));
    let mode: String = h
        .db()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn init_twice_keeps_the_administrators_config() {
    let h = Home::new();
    let path = h.root.join("kartka.toml");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("name = \"Павлоград\"", "name = \"Павлоград (edited)\"");
    std::fs::write(&path, &edited).unwrap();
    let r = h.kartka(&["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn a_broken_config_is_exit_78_naming_the_file() {
    let h = Home::new();
    std::fs::write(h.root.join("kartka.toml"), "[city\nname = 1").unwrap();
    let r = h.kartka(&["status"]);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("kartka.toml"), "{}", r.stderr);
}

#[test]
fn commands_on_a_missing_home_say_how_to_create_it() {
    let h = Home::uninitialised();
    let r = h.kartka(&[
        "import",
        "applicants",
        "fixtures/applicants/legacy-2025.xls",
    ]);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("kartka init --home"), "{}", r.stderr);
}

#[test]
fn json_init_prints_one_object() {
    let h = Home::uninitialised();
    let r = h.kartka(&["--json", "init"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(v["created"], true);
    assert_eq!(v["schema_version"], kartka::registry::SCHEMA_VERSION);
    assert_eq!(v["card_key_written"], true);
    assert_eq!(v["design_written"].as_array().unwrap().len(), 2);
    // A second init keeps the key: the cards already made depend on it.
    let key = std::fs::read(h.root.join("keys/card-master.key")).unwrap();
    let v = h.kartka(&["--json", "init"]).json();
    assert_eq!(v["card_key_written"], false);
    assert_eq!(
        std::fs::read(h.root.join("keys/card-master.key")).unwrap(),
        key
    );
}

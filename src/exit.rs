//! Exit codes (DESIGN.md: sysexits.h values) and the one table of which
//! command ends with which code, and when. Each domain's error says its own
//! code (`exit_code()` beside its enum); the commands' `--help` texts are
//! rendered from `TABLE`, and a test checks the table against what the
//! errors return, so a page, the help and the program cannot disagree.

/// Exit codes of DESIGN.md (sysexits.h values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitCode {
    Ok = 0,
    /// Ran, and found a difference (`kartka reconcile`).
    Differs = 1,
    Usage = 2,
    DataErr = 65,
    NoInput = 66,
    Software = 70,
    CantCreate = 73,
    IoErr = 74,
    TempFail = 75,
    NoPerm = 77,
    Config = 78,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One line of the table: `command` ends with `code` when `when`.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub command: &'static str,
    pub code: ExitCode,
    pub when: &'static str,
}

const fn row(command: &'static str, code: ExitCode, when: &'static str) -> Row {
    Row {
        command,
        code,
        when,
    }
}

use ExitCode::*;

/// Every command's exit codes. The same cause has the same code in every
/// command: a busy registry or a held home lock is 75, a missing or unsafe
/// key is 78, an output that cannot be written is 73.
pub const TABLE: &[Row] = &[
    row("kartka", Ok, "ok"),
    row("kartka", Usage, "usage"),
    row("kartka", DataErr, "bad input data"),
    row("kartka", NoInput, "no input"),
    row("kartka", CantCreate, "can't create output"),
    row("kartka", IoErr, "I/O error"),
    row(
        "kartka",
        TempFail,
        "another run holds the lock, or the registry is busy",
    ),
    row("kartka", NoPerm, "not permitted"),
    row("kartka", Config, "bad config"),
    //
    row("init", Ok, "the home exists and its registry is current"),
    row("init", CantCreate, "the folder cannot be created"),
    row(
        "init",
        TempFail,
        "another kartka run is writing to this home",
    ),
    row(
        "init",
        Config,
        "the existing kartka.toml is not valid (the message names the line)",
    ),
    //
    row(
        "import",
        Ok,
        "processed (even with rejected rows, unless --strict)",
    ),
    row(
        "import",
        DataErr,
        "a file is unusable (not a spreadsheet, no header, a required column missing) or --strict and rows were rejected",
    ),
    row("import", NoInput, "a file is missing"),
    row(
        "import",
        CantCreate,
        "the rejects file or a photo cannot be written",
    ),
    row("import", TempFail, "another run holds the home lock"),
    //
    row(
        "vocab",
        Ok,
        "taught, listed or forgotten (or already known)",
    ),
    row(
        "vocab",
        Usage,
        "the code is not one of kartka.toml, or the text already means something else there",
    ),
    //
    row("eligibility", Ok, "ok"),
    row("eligibility", NoInput, "explain: no such person"),
    row("eligibility", CantCreate, "the workbook cannot be written"),
    row("eligibility", TempFail, "another run holds the lock"),
    //
    row("cards", Ok, "ok"),
    row(
        "cards",
        Differs,
        "`inspect`: the dump has a finding (a key, a damaged block, a blocked or unknown card)",
    ),
    row(
        "cards",
        DataErr,
        "refused (the message says why; nothing changed), a mistyped number, or not a card dump",
    ),
    row(
        "cards",
        NoInput,
        "no such card or person, or the UID list is missing",
    ),
    row("cards", CantCreate, "the output cannot be written"),
    row("cards", TempFail, "another run holds the home lock"),
    row(
        "cards",
        Config,
        "the card key or design images are missing or unsafe",
    ),
    //
    row("fleet", Ok, "ok"),
    row("fleet", DataErr, "a bad row (the file is refused whole)"),
    row("fleet", NoInput, "no such file"),
    row("fleet", TempFail, "another run holds the home lock"),
    //
    row("dock", Ok, "every validator docked"),
    row(
        "dock",
        DataErr,
        "a forged or edited frame, an unknown validator, another protocol version",
    ),
    row("dock", NoInput, "no such port"),
    row(
        "dock",
        IoErr,
        "unplugged or no answer (dock again: it resumes from the last ack)",
    ),
    row(
        "dock",
        TempFail,
        "the port is busy, or another run holds the home lock",
    ),
    row("dock", Config, "the dock key is missing or unsafe"),
    //
    row("taps", Ok, "ok (rejected CSV rows are in the rejects file)"),
    row("taps", Usage, "a month that is not YYYY-MM"),
    row(
        "taps",
        DataErr,
        "a file is not a dump or vendor export, a dump is damaged or edited, or its validator is not registered, or a vendor row is a different tap under a stored (validator, seq) (nothing imported); an unknown flag id, a hold or clearing without a reason or of a rule not on the tap, a review workbook with problems, or a flags file that is not the one its run recorded (nothing cleared or held)",
    ),
    row(
        "taps",
        NoInput,
        "a file is missing, or the month has no taps or no flags yet",
    ),
    row("taps", CantCreate, "the --out file cannot be written"),
    row("taps", TempFail, "another run holds the home lock"),
    //
    row("compensation", Ok, "ok"),
    row("compensation", Usage, "a month that is not YYYY-MM"),
    row(
        "compensation",
        DataErr,
        "taps came in after the last flag run, or the flags file is not the one the run recorded (run `kartka taps flag` again)",
    ),
    row(
        "compensation",
        NoInput,
        "the month has no taps, or no flag run yet",
    ),
    row("compensation", CantCreate, "a workbook cannot be written"),
    row(
        "compensation",
        Config,
        "no [[tariffs]] entry prices some trips (nothing written)",
    ),
    //
    row("reconcile", Ok, "the report matches within [reconcile]"),
    row(
        "reconcile",
        Differs,
        "it does not (the workbook says where)",
    ),
    row("reconcile", Usage, "a month that is not YYYY-MM"),
    row(
        "reconcile",
        DataErr,
        "the report has problems (each listed; nothing compared), an unknown carrier, taps came in after the last flag run, or the flags file is not the one the run recorded",
    ),
    row(
        "reconcile",
        NoInput,
        "a missing report, or the month has no taps or no flag run",
    ),
    row("reconcile", CantCreate, "the workbook cannot be written"),
    row(
        "reconcile",
        Config,
        "no [[tariffs]] entry prices some trips",
    ),
    //
    row("budget", Ok, "ok"),
    row(
        "budget",
        Usage,
        "a bad --year, --as-of, --fare, --growth or --out",
    ),
    row(
        "budget",
        NoInput,
        "no counted month in the store up to --as-of",
    ),
    row(
        "budget",
        DataErr,
        "a month's flags file is not the one its run recorded (run `kartka taps flag` again)",
    ),
    row("budget", CantCreate, "the workbook cannot be written"),
    row("budget", Config, "no [[tariffs]] entry prices some trips"),
    //
    row("report", Ok, "ok"),
    row("report", Usage, "a bad date, or --from after --to"),
    row(
        "report",
        DataErr,
        "a month's flags file is not the one its run recorded (run `kartka taps flag` again)",
    ),
    row("report", NoInput, "no taps stored in the period"),
    row("report", CantCreate, "the --out file cannot be written"),
    row(
        "report",
        NoPerm,
        "not permitted (names and photos: staff roles with --purpose; carrier accounts see only their own carriers and routes)",
    ),
    //
    row(
        "open-data",
        Ok,
        "ok: the release is written and signed; `verify`: it verifies",
    ),
    row(
        "open-data",
        Usage,
        "a bad date, --from after --to, or a --key that is not an Ed25519 public key",
    ),
    row(
        "open-data",
        DataErr,
        "`verify`: a file changed, missing or added, or the signature does not hold under the key",
    ),
    row(
        "open-data",
        NoInput,
        "no taps stored in the period; `verify`: the folder holds no manifest",
    ),
    row(
        "open-data",
        CantCreate,
        "--out exists and is not empty, or cannot be written",
    ),
    row(
        "open-data",
        NoPerm,
        "not permitted (public: admin and analyst accounts; research: analyst accounts with --purpose)",
    ),
    row(
        "open-data",
        Config,
        "a bad [open_data] setting, or a publication key others can read",
    ),
    //
    row("accounts", Ok, "ok"),
    row(
        "accounts",
        DataErr,
        "a bad name, an unknown carrier, a scope on a role without one, or removing the last admin",
    ),
    row("accounts", NoInput, "no such account"),
    row("accounts", NoPerm, "only an admin manages accounts"),
    //
    row("audit", Ok, "ok (verify: the chain holds)"),
    row(
        "audit",
        DataErr,
        "verify: an entry was edited, deleted or cut off (each named)",
    ),
    row("audit", NoInput, "no such person"),
    row("audit", CantCreate, "the export cannot be written"),
    row(
        "audit",
        NoPerm,
        "not permitted (the audit trail is for admins and auditors; a resident's accesses also for clerks, with --purpose)",
    ),
    //
    row("person", Ok, "ok"),
    row("person", NoInput, "no such person"),
    row("person", CantCreate, "the export cannot be written"),
    row(
        "person",
        NoPerm,
        "not permitted (a resident's data is for admins and clerks, with --purpose)",
    ),
    //
    row("backup", Ok, "ok"),
    row(
        "backup",
        DataErr,
        "the backup is damaged or the home's files differ from its registry",
    ),
    row("backup", NoInput, "DEST is not a backup"),
    row(
        "backup",
        CantCreate,
        "DEST cannot be written or is not a backup folder",
    ),
    row("backup", IoErr, "I/O error"),
    row(
        "backup",
        TempFail,
        "another backup writes to DEST, or the tap store kept moving",
    ),
    //
    row("restore", Ok, "ok"),
    row(
        "restore",
        DataErr,
        "the backup is damaged (nothing written)",
    ),
    row("restore", NoInput, "SRC is not a backup"),
    row(
        "restore",
        CantCreate,
        "the home exists and is not empty, or cannot be created",
    ),
    row("restore", IoErr, "I/O error"),
];

/// The rows of one command.
pub fn rows(command: &str) -> impl Iterator<Item = &'static Row> + '_ {
    TABLE.iter().filter(move |r| r.command == command)
}

/// The `Exit codes: …` paragraph of a command's `--help`.
pub fn help(command: &str) -> String {
    let parts: Vec<String> = rows(command)
        .map(|r| format!("{} {}", r.code.code(), r.when))
        .collect();
    format!("Exit codes: {}.", parts.join("; "))
}

/// The codes a command may end with.
pub fn codes(command: &str) -> Vec<ExitCode> {
    rows(command).map(|r| r.code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn busy() -> crate::registry::Error {
        crate::registry::Error::Busy {
            path: PathBuf::from("registry.sqlite"),
        }
    }

    fn locked() -> crate::home::Error {
        crate::home::Error::Locked {
            path: PathBuf::from(".lock"),
            holder: "pid 7".into(),
            waited_s: 10,
        }
    }

    /// What each command's domains return, one error per cause the table
    /// names (the global causes, busy and locked, for all of them).
    fn returned(command: &str) -> Vec<ExitCode> {
        use crate::Error as E;
        let p = || PathBuf::from("f");
        let month = || "2026-10".to_string();
        let mut errors: Vec<E> = vec![E::Registry(busy()), E::Home(locked())];
        match command {
            "vocab" => errors.push(crate::intake::Error::Teach("x".into()).into()),
            "import" => errors.extend([
                crate::intake::Error::Missing { path: p() }.into(),
                crate::intake::Error::Registry(busy()).into(),
                E::StrictRejected("3 rows".into()),
            ]),
            "cards" => errors.extend([
                crate::cards::Error::UnknownCard("1".into()).into(),
                crate::cards::Error::Refused {
                    number: "1".into(),
                    why: "x".into(),
                }
                .into(),
                crate::cards::Error::Output {
                    path: p(),
                    detail: "x".into(),
                }
                .into(),
                crate::cards::Error::Key {
                    path: p(),
                    why: "x".into(),
                }
                .into(),
                crate::cards::Error::Registry(busy()).into(),
            ]),
            "taps" => errors.extend([
                crate::flags::Error::Month { text: "x".into() }.into(),
                crate::flags::Error::UnknownFlag { ids: "F-1".into() }.into(),
                crate::flags::Error::HoldUnknown { ids: "F-1".into() }.into(),
                crate::flags::Error::HoldRefused("x".into()).into(),
                crate::flags::Error::NotFlagged { month: month() }.into(),
                crate::flags::Error::NotRecorded {
                    month: month(),
                    path: p(),
                    recorded: "a".into(),
                    found: "b".into(),
                }
                .into(),
                crate::flags::Error::Output {
                    path: p(),
                    message: "x".into(),
                }
                .into(),
                crate::taps::Error::Missing { path: p() }.into(),
                crate::flags::Error::Registry(busy()).into(),
                crate::taps::Error::Registry(busy()).into(),
            ]),
            "compensation" | "reconcile" => errors.extend([
                crate::compensation::Error::Month { text: "x".into() }.into(),
                crate::compensation::Error::NotFlagged { month: month() }.into(),
                crate::compensation::Error::StaleFlags {
                    month: month(),
                    stored: 2,
                    judged: 1,
                }
                .into(),
                crate::compensation::Error::Output {
                    path: p(),
                    message: "x".into(),
                }
                .into(),
                crate::compensation::Error::Registry(busy()).into(),
                crate::compensation::Error::Flags(crate::flags::Error::Registry(busy())).into(),
                crate::compensation::Error::Flags(crate::flags::Error::NotRecorded {
                    month: month(),
                    path: p(),
                    recorded: "a".into(),
                    found: "b".into(),
                })
                .into(),
            ]),
            "report" => errors.extend([
                crate::report::Error::NoTaps {
                    from: "2026-10-01".parse().unwrap(),
                    to: "2026-10-31".parse().unwrap(),
                }
                .into(),
                crate::report::Error::Output {
                    path: p(),
                    detail: "x".into(),
                }
                .into(),
                crate::report::Error::Registry(busy()).into(),
                crate::report::Error::Taps(crate::taps::Error::Registry(busy())).into(),
            ]),
            "fleet" => errors.extend([
                crate::fleet::Error::Missing { path: p() }.into(),
                crate::fleet::Error::Registry(busy()).into(),
            ]),
            "eligibility" => errors.extend([
                crate::eligibility::Error::UnknownPerson("1".into()).into(),
                crate::eligibility::Error::Registry(busy()).into(),
            ]),
            "person" | "accounts" | "audit" => errors.extend([
                crate::person::Error::Registry(busy()).into(),
                crate::access::Error::Registry(busy()).into(),
            ]),
            "open-data" => errors.extend([
                crate::open_data::Error::Period {
                    from: "2026-10-31".parse().unwrap(),
                    to: "2026-10-01".parse().unwrap(),
                }
                .into(),
                crate::open_data::Error::BadKey("k".into()).into(),
                crate::open_data::Error::Tampered {
                    dir: p(),
                    problems: vec!["x".into()],
                }
                .into(),
                crate::open_data::Error::NoManifest {
                    dir: p(),
                    detail: "x".into(),
                }
                .into(),
                crate::open_data::Error::Exists { path: p() }.into(),
                crate::open_data::Error::Key {
                    path: p(),
                    why: "x".into(),
                }
                .into(),
                crate::open_data::Error::Registry(busy()).into(),
                crate::open_data::Error::Taps(crate::taps::Error::Registry(busy())).into(),
            ]),
            "backup" => errors.extend([
                crate::backup::Error::Registry(busy()).into(),
                crate::backup::Error::Home(locked()).into(),
            ]),
            _ => {}
        }
        errors.iter().map(crate::Error::exit_code).collect()
    }

    const COMMANDS: [&str; 14] = [
        "import",
        "eligibility",
        "cards",
        "fleet",
        "dock",
        "taps",
        "compensation",
        "reconcile",
        "report",
        "open-data",
        "accounts",
        "audit",
        "person",
        "backup",
    ];

    #[test]
    fn a_busy_registry_is_75_in_every_domain() {
        let all = [
            crate::Error::Registry(busy()).exit_code(),
            crate::intake::Error::Registry(busy()).exit_code(),
            crate::eligibility::Error::Registry(busy()).exit_code(),
            crate::cards::Error::Registry(busy()).exit_code(),
            crate::taps::Error::Registry(busy()).exit_code(),
            crate::fleet::Error::Registry(busy()).exit_code(),
            crate::dock::Error::Registry(busy()).exit_code(),
            crate::flags::Error::Registry(busy()).exit_code(),
            crate::compensation::Error::Registry(busy()).exit_code(),
            crate::access::Error::Registry(busy()).exit_code(),
            crate::person::Error::Registry(busy()).exit_code(),
            crate::report::Error::Registry(busy()).exit_code(),
            crate::open_data::Error::Registry(busy()).exit_code(),
            crate::backup::Error::Registry(busy()).exit_code(),
            crate::home::Error::Locked {
                path: PathBuf::new(),
                holder: String::new(),
                waited_s: 0,
            }
            .exit_code(),
        ];
        assert!(all.iter().all(|c| *c == TempFail), "{all:?}");
        assert!(codes("kartka").contains(&TempFail));
    }

    #[test]
    fn every_code_an_error_returns_is_in_the_table_for_its_command() {
        let global = codes("kartka");
        for command in COMMANDS {
            let listed = codes(command);
            assert!(listed.contains(&Ok), "{command}: no 0 row");
            for code in returned(command) {
                assert!(
                    listed.contains(&code) || global.contains(&code),
                    "{command} can end with {} but the table does not say when",
                    code.code()
                );
            }
        }
    }

    #[test]
    fn the_help_paragraph_is_rendered_from_the_table() {
        let h = help("compensation");
        assert!(h.starts_with("Exit codes: 0 ok; 2 a month"), "{h}");
        assert!(
            h.contains("; 78 no [[tariffs]] entry prices some trips"),
            "{h}"
        );
        assert!(h.ends_with('.'));
        for command in COMMANDS {
            assert!(rows(command).count() >= 2, "{command} has no rows");
        }
    }
}

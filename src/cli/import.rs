use std::path::PathBuf;

use indicatif::ProgressBar;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::intake::{self, ImportOptions, Notice};

#[derive(Debug, clap::Subcommand)]
pub enum Import {
    /// Import applicant spreadsheets (.xlsx, .xls, .ods, .csv) into the registry.
    #[command(
        after_help = format!("Every row ends up in the registry or in the rejects file with its reason:\n\
read = inserted + updated + unchanged + rejected. Re-importing the same file changes nothing.\n\n\
Examples:\n  kartka import applicants office-2026-10.xlsx\n  kartka import applicants --sheet Заяви --rejects /tmp/rejects.csv office.xlsx\n  kartka import applicants --community UA12120190000064981 terniv.csv\n  kartka --json import applicants --strict /incoming/*.csv   # for cron\n\n{}", crate::exit::help("import"))
    )]
    Applicants(ApplicantsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ApplicantsArgs {
    /// Spreadsheet files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Read only this sheet (default: every sheet with an applicant header).
    #[arg(long)]
    sheet: Option<String>,
    /// Where to write rejected rows (default: <first file>.rejects.csv next to it).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Check and count everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Exit 65 if any row was rejected (for cron).
    #[arg(long)]
    strict: bool,
    /// The community of rows that name none in a community, settlement or
    /// address column, when the sheet's name does not name it either: a
    /// КАТОТТГ code or a name from kartka.toml.
    #[arg(long, value_name = "CODE")]
    community: Option<String>,
    /// Show which column is taken as which field, and the category,
    /// community and sex values not written as configured; write nothing.
    #[arg(long, conflicts_with_all = ["dry_run", "strict", "rejects"])]
    columns: bool,
}

/// kartka.toml with what clerks taught (`kartka vocab`) added.
fn taught_config(home: &crate::home::Home) -> Result<Config, Error> {
    let mut config = Config::load(&home.config())?;
    let reg = crate::registry::Registry::open(&home.registry())?;
    intake::taught::apply(&mut config, intake::taught::list(&reg)?);
    Ok(config)
}

struct Bar(ProgressBar);

impl intake::Progress for Bar {
    fn start(&self, total: Option<u64>) {
        match total {
            Some(n) => self.0.set_length(n),
            None => self.0.unset_length(),
        }
    }
    fn advance(&self, rows: u64) {
        self.0.inc(rows);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub fn run(g: &Global, cmd: Import) -> Result<(), Error> {
    let Import::Applicants(a) = cmd;
    let home = g.home();
    home.require_initialised()?;
    if a.columns {
        let config = taught_config(&home)?;
        let opts = ImportOptions {
            files: a.files,
            sheet: a.sheet,
            community: a.community,
            ..ImportOptions::default()
        };
        let sheets = intake::columns::columns(&config, &opts)?;
        for s in &sheets {
            print_columns(g, s);
        }
        g.print_json(&serde_json::json!({ "sheets": sheets }));
        return Ok(());
    }
    let _lock = if a.dry_run {
        None
    } else {
        Some(home.lock("import applicants", crate::home::lock_wait())?)
    };
    let config = taught_config(&home)?;
    let bar = g.progress_bar("{bar:40} {pos}/{len} rows, {per_sec}, ETA {eta}");
    let opts = ImportOptions {
        files: a.files,
        sheet: a.sheet,
        rejects: a.rejects,
        dry_run: a.dry_run,
        operator: g.operator(),
        community: a.community,
    };
    let summary = intake::import_applicants(&home, &config, &opts, &Bar(bar.clone()), &mut |n| {
        let line = match n {
            Notice::Skipped { place, why } => format!("note: {place}: skipped: {why}"),
            Notice::Warning { place, text } => format!("warning: {place}: {text}"),
            Notice::Rejected { place, reason } => format!("rejected: {place}: {reason}"),
        };
        bar.suspend(|| g.say(line));
    });
    if std::env::var_os("KARTKA_TIMINGS").is_some() {
        let (here, readers) = crate::memory::peak_mib();
        eprintln!("memory: peak {here} MiB, workbook readers {readers} MiB");
    }
    let summary = summary?;
    g.say(format_args!(
        "{}read {}: inserted {}, updated {}, unchanged {}, rejected {}; warnings {}.",
        if opts.dry_run {
            "Dry run (nothing written): "
        } else {
            ""
        },
        summary.read,
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.rejected,
        summary.warnings
    ));
    if summary.skipped > 0 {
        let kinds: Vec<String> = summary
            .skipped_kinds
            .iter()
            .map(|(k, n)| format!("{} {n}", k.many_en()))
            .collect();
        g.say(format_args!(
            "Not applicants, skipped (not counted in read): {} row{} ({}).",
            summary.skipped,
            if summary.skipped == 1 { "" } else { "s" },
            kinds.join(", ")
        ));
    }
    if let Some(p) = &summary.rejects_file {
        g.say(format_args!("Rejected rows, with reasons: {}", p.display()));
    }
    if let Some(p) = &summary.warnings_file {
        g.say(format_args!(
            "Warnings, with what each value was taken as: {}",
            p.display()
        ));
    }
    g.print_json(&summary);
    if a.strict && summary.rejected > 0 {
        return Err(Error::StrictRejected(format!(
            "--strict: {} row(s) rejected; see {}",
            summary.rejected,
            summary
                .rejects_file
                .as_ref()
                .map_or("the messages above".into(), |p| p.display().to_string())
        )));
    }
    Ok(())
}

/// The `kartka vocab add` kind for a value of this field.
fn taught_kind(field: &str) -> Option<&'static str> {
    match field {
        "community" => Some("community"),
        "category" | "chosen_category" => Some("category"),
        _ => None,
    }
}

/// The column map of one sheet and its values not written as configured.
fn print_columns(g: &Global, s: &intake::columns::SheetColumns) {
    let sheet = if s.sheet.is_empty() {
        String::new()
    } else {
        format!(", sheet \"{}\"", s.sheet)
    };
    g.say(format_args!(
        "{}{sheet}: header on row {}",
        s.file, s.header_row
    ));
    for c in &s.columns {
        let read = match (c.field, c.taught) {
            (Some(f), _) if c.by_values => format!(
                "{f} (by its values; to say so once: kartka vocab add header {:?} {f})",
                c.header
            ),
            (Some(f), true) => format!("{f} (taught: kartka vocab)"),
            (Some(f), false) => f.to_string(),
            (None, _) if c.nearest.is_empty() => "(not read)".to_string(),
            (None, _) => format!(
                "(not read; nearest: {}; to read it as one: kartka vocab add header {:?} {})",
                c.nearest.join(", "),
                c.header,
                c.nearest[0]
            ),
        };
        g.say(format_args!(
            "  {:<3} {:<45} {read}",
            c.column,
            format!("«{}»", c.header),
        ));
    }
    g.say(format_args!(
        "  community from: {}",
        s.community_from.join(", then ")
    ));
    if s.values.is_empty() {
        g.say("  every category, community and sex value is written as configured");
        return;
    }
    g.say("  values not written as configured:");
    let named = |c: &intake::columns::Candidate| format!("«{}» ({})", c.label, c.code);
    for v in &s.values {
        let what = match (&v.taken_as, v.result) {
            (Some(t), "taught") => format!("taken as {} (taught: kartka vocab)", named(t)),
            (Some(t), _) => format!(
                "taken as {} ({} it)",
                named(t),
                v.how.map_or("", |h| h.en())
            ),
            (None, "ambiguous") => format!(
                "cannot place: did you mean {}?",
                v.candidates
                    .iter()
                    .map(named)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            _ => {
                let nearest = if v.candidates.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; nearest: {}",
                        v.candidates
                            .iter()
                            .map(named)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let teach = taught_kind(v.field).map_or(String::new(), |kind| {
                    format!(
                        "; to teach it: kartka vocab add {kind} {:?} {}",
                        v.written,
                        v.candidates.first().map_or("CODE", |c| c.code.as_str())
                    )
                });
                format!("cannot place: not a known value{nearest}{teach}")
            }
        };
        g.say(format_args!(
            "    {} {:?} ({} row{}): {what}",
            v.column,
            v.written,
            v.rows,
            if v.rows == 1 { "" } else { "s" }
        ));
    }
}

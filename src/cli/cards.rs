use std::path::PathBuf;

use chrono::NaiveDate;

use super::Global;
use crate::Error;
use crate::cards::{self, CardNumber, Enforced, Move, Reason, State};
use crate::config::Config;
use crate::lang::Lang;
use crate::registry::Registry;

#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka cards issue\n  kartka cards print-job --out /srv/print/2026-11-26 --uids box-7.txt\n  kartka cards block 1000000008 --reason lost\n  kartka cards reissue 1000000008 --receipt 0.0.3456789.1\n  kartka cards show 10000001\n\n{}", crate::exit::help("cards")))]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Give every eligible person without a live card their card (idempotent).
    ///
    /// Stops first the cards the registry says must stop: holder died
    /// (death), no longer eligible (benefit-ended), past the last day
    /// (expired). A card blocked as lost, damaged or data-changed needs
    /// `reissue` instead (P8).
    Issue {
        /// The date to issue as of (default: today in Kyiv).
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Block a card at once (P8, P9).
    Block {
        number: String,
        #[arg(long, value_enum)]
        reason: Reason,
        /// A note kept with the event (e.g. the holder's application number).
        #[arg(long)]
        note: Option<String>,
    },
    /// Make the paid replacement of a blocked card, once the fee receipt is shown (P8).
    Reissue {
        number: String,
        /// The fee receipt's number or reference.
        #[arg(long)]
        receipt: String,
    },
    /// Record cards as printed and encoded (from the printer's report).
    Printed {
        numbers: Vec<String>,
        /// Every card of this print job.
        #[arg(long)]
        job: Option<i64>,
    },
    /// Record a card as handed to its holder.
    HandOver { number: String },
    /// Show a card (by number) or a person's cards (social number, tax number, passport), with their history.
    Show { key: String },
    /// List cards, optionally in one state.
    List {
        #[arg(long, value_enum)]
        state: Option<State>,
    },
    /// Write a print job for every card issued and not yet sent to print.
    PrintJob(PrintJobArgs),
    /// A card's expected chip content as a Proxmark3 dump (the trailers
    /// hold its keys: the file is its owner's only).
    Image {
        number: String,
        #[arg(long, value_enum, default_value_t = cards::dump::Format::ProxmarkJson)]
        format: cards::dump::Format,
        /// The file [default: HOME/exports/cards/hf-mf-UID-NUMBER.EXT].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Explain a card dump (Proxmark3 .json, .bin or .eml): the MAD, the
    /// transport application, the trip counter, the last validation, the
    /// keys, the registry and the blocklist. Exit 0 sound, 1 findings.
    Inspect { dump: PathBuf },
    /// Publish the blocklist for the dock (.kbl) and as CSV for people.
    Blocklist {
        /// The .kbl file (the CSV goes beside it) [default: HOME/exports/blocklist.kbl].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct PrintJobArgs {
    /// The job's folder (must be new or empty) [default: HOME/exports/print-jobs/<date>-<n>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The card stock's UID list, in feed order: each card's keys are derived from its UID.
    #[arg(long)]
    uids: PathBuf,
    /// Print these cards again (a misprint, a spoiled chip): they must be sent or printed.
    #[arg(long, num_args = 1..)]
    reprint: Vec<String>,
    /// At most this many cards (the rest wait for the next job).
    #[arg(long)]
    limit: Option<usize>,
}

/// The social numbers of the holders of `numbers` (card numbers as text).
fn number(text: &str) -> Result<CardNumber, Error> {
    Ok(CardNumber::parse(text).map_err(cards::Error::from)?)
}

fn money(kopecks: i64) -> String {
    crate::money::grn(kopecks)
}

fn say_enforced(g: &Global, e: &Enforced) {
    for (what, list) in [
        ("blocked (death)", &e.death),
        ("blocked (benefit-ended)", &e.benefit_ended),
        ("expired", &e.expired),
    ] {
        if !list.is_empty() {
            g.say(format_args!("{what}: {}", list.join(", ")));
        }
    }
    for (n, printed, now) in &e.name_changed {
        g.say(format_args!(
            "NAME CHANGED: card {n} shows {printed:?}; the registry now has {now:?}. If the holder's name changed, block it (--reason data-changed) and reissue."
        ));
    }
}

pub fn action(args: &Args) -> crate::access::Action {
    use crate::access::Action;
    match args.command {
        Cmd::Show { .. } | Cmd::List { .. } => Action::CardsView,
        Cmd::PrintJob(_) => Action::CardsPrint,
        Cmd::Blocklist { .. } => Action::Blocklist,
        Cmd::Image { .. } => Action::CardsImage,
        Cmd::Inspect { .. } => Action::CardsInspect,
        _ => Action::CardsChange,
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let operator = g.operator();
    let today = crate::time::today_kyiv();
    let lang: Lang = g.lang;
    let lock = |cmd: &str| home.lock(cmd, crate::home::lock_wait());
    match args.command {
        Cmd::Issue { as_of } => {
            let _lock = lock("cards issue")?;
            let mut reg = Registry::open(&home.registry())?;
            let s = cards::issue(&mut reg, &config, as_of.unwrap_or(today), &operator)?;
            say_enforced(g, &s.enforced);
            g.say(format_args!(
                "Issued {} card(s) ({} renewed); {} eligible people already hold a live card; {} await a paid reissue.",
                s.issued.len(),
                s.renewals,
                s.already,
                s.awaiting_reissue.len()
            ));
            if !s.term_ended.is_empty() {
                g.say(format_args!(
                    "No card for {} eligible people whose benefit term has ended ({}): decide again with `kartka eligibility --all`.",
                    s.term_ended.len(),
                    s.term_ended.join(", ")
                ));
            }
            for (person, card, reason) in &s.awaiting_reissue {
                g.say(format_args!(
                    "  {person}: card {card} is blocked ({reason}); `kartka cards reissue {card} --receipt REF` once the fee is paid"
                ));
            }
            g.print_json(&s);
        }
        Cmd::Block {
            number: n,
            reason,
            note,
        } => {
            let _lock = lock("cards block")?;
            let mut reg = Registry::open(&home.registry())?;
            let card = cards::block(&mut reg, number(&n)?, reason, &operator, note.as_deref())?;
            g.say(format_args!(
                "Blocked card {} ({}) of {} {}: {} — {}. The next blocklist stops it on the buses.",
                card.number,
                CardNumber::parse(&card.number)
                    .map(|c| c.grouped())
                    .unwrap_or_default(),
                card.social_number,
                card.holder,
                reason,
                reason.uk()
            ));
            if reason.allows_reissue() {
                let fee = config
                    .cards
                    .fees_on(today)
                    .map_or(0, |f| f.reissue_fee_kopecks);
                g.say(format_args!(
                    "A replacement costs the holder {} (P8). Payment details:\n  {}\nThen: kartka cards reissue {} --receipt REF",
                    money(fee),
                    if config.cards.payment_details.is_empty() {
                        "(set [cards] payment_details in kartka.toml)"
                    } else {
                        &config.cards.payment_details
                    },
                    card.number
                ));
            }
            g.print_json(&card);
        }
        Cmd::Reissue { number: n, receipt } => {
            let _lock = lock("cards reissue")?;
            let mut reg = Registry::open(&home.registry())?;
            let (old, new) =
                cards::reissue(&mut reg, &config, number(&n)?, &receipt, today, &operator)?;
            g.say(format_args!(
                "Card {} replaces blocked card {} for {} {} (issue {}; fee {} paid, receipt {}). It goes in the next print job.",
                new.number,
                old.number,
                new.social_number,
                new.holder,
                new.issue,
                money(new.fee_kopecks),
                new.receipt.as_deref().unwrap_or("")
            ));
            g.print_json(&new);
        }
        Cmd::Printed { numbers, job } => {
            let _lock = lock("cards printed")?;
            let mut reg = Registry::open(&home.registry())?;
            let list = numbers
                .iter()
                .map(|n| number(n))
                .collect::<Result<Vec<_>, _>>()?;
            let done = cards::record_printed(&mut reg, &list, job, &operator)?;
            g.say(format_args!(
                "Recorded {} card(s) as printed and encoded.",
                done.len()
            ));
            g.print_json(
                &serde_json::json!({"printed": done.iter().map(|c| &c.number).collect::<Vec<_>>()}),
            );
        }
        Cmd::HandOver { number: n } => {
            let _lock = lock("cards hand-over")?;
            let mut reg = Registry::open(&home.registry())?;
            let done = cards::record(&mut reg, &[number(&n)?], Move::HandOver, &operator)?;
            let c = &done[0];
            g.say(format_args!(
                "Card {} handed to {} {}.",
                c.number, c.social_number, c.holder
            ));
            g.print_json(c);
        }
        Cmd::Show { key } => {
            let mut reg = Registry::open(&home.registry())?;
            let shown = cards::show(&mut reg, g.session(), &key)?;
            if shown.is_empty() {
                println!("{key}: no cards");
            }
            for s in &shown {
                print_card(&config, s, lang);
            }
            g.print_json(&shown);
        }
        Cmd::List { state } => {
            let mut reg = Registry::open(&home.registry())?;
            let list = cards::list(&mut reg, g.session(), state)?;
            for c in &list {
                println!(
                    "{}  {:<8} {:<15} {}  {:<40} {:<18} {}",
                    c.number,
                    c.state,
                    c.reason.map_or(String::new(), |r| r.to_string()),
                    c.social_number,
                    c.holder,
                    c.category,
                    c.valid_to
                );
            }
            g.say(format_args!("{} card(s).", list.len()));
            g.print_json(&list);
        }
        Cmd::PrintJob(a) => {
            let _lock = lock("cards print-job")?;
            let out = match a.out {
                Some(o) => o,
                None => default_job_folder(&home, today),
            };
            let opts = cards::print::Options {
                out,
                uids: a.uids,
                reprint: a
                    .reprint
                    .iter()
                    .map(|n| number(n))
                    .collect::<Result<_, _>>()?,
                limit: a.limit,
                lang,
                today,
            };
            let bar = g.progress_bar("{bar:40} {pos}/{len} photos, ETA {eta}");
            // The job records the export in the audit trail itself, before
            // the names and photos are renamed into the printer's folder.
            let s = cards::print::run(&home, &config, &opts, g.session(), &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            say_enforced(g, &s.enforced);
            // One line per reason, with the cards it holds back.
            let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
            for h in &s.held_back {
                match reasons.iter_mut().find(|(why, _)| *why == h.why) {
                    Some((_, list)) => list.push(&h.number),
                    None => reasons.push((&h.why, vec![&h.number])),
                }
            }
            for (why, list) in reasons {
                g.say(format_args!(
                    "held back {} card(s): {why}: {}",
                    list.len(),
                    list.join(", ")
                ));
            }
            match &s.folder {
                Some(folder) => g.say(format_args!(
                    "Print job {}: {} card(s) in {folder} (cards.csv, photos/, barcodes/, proof.pdf, encoding.json); they are now sent to print.",
                    s.job.unwrap_or_default(),
                    s.cards.len()
                )),
                None => g.say("Nothing to print: no card is waiting (use --reprint NUMBER to print one again)."),
            }
            if s.placeholder_design {
                g.say("WARNING: the card design images are kartka's placeholders (ЗРАЗОК); put the city's arms and picture in place before printing real cards.");
            }
            g.print_json(&s);
        }
        Cmd::Image {
            number: n,
            format,
            out,
        } => {
            let reg = Registry::open(&home.registry())?;
            let w = cards::inspect::write_image(
                &home,
                &reg,
                &config,
                number(&n)?,
                format,
                out.as_deref(),
            )?;
            g.say(format_args!(
                "card {} (UID {}): {} bytes → {} (its keys are in it: keep it to yourself)",
                w.card,
                w.uid,
                w.bytes,
                w.file.display()
            ));
            g.print_json(&w);
        }
        Cmd::Inspect { dump } => {
            let reg = Registry::open(&home.registry())?;
            let i = cards::inspect::inspect_file(&home, &reg, &config, &dump)?;
            g.print_json(&i);
            if !g.json && !g.quiet {
                print_inspection(&i);
            }
            if !i.sound() {
                return Err(Error::Reported(crate::ExitCode::Differs));
            }
        }
        Cmd::Blocklist { out } => {
            let _lock = lock("cards blocklist")?;
            let mut reg = Registry::open(&home.registry())?;
            let out = out.unwrap_or_else(|| home.exports().join("blocklist.kbl"));
            let p = cards::blocklist::publish(&mut reg, today, &operator, &out, lang)?;
            say_enforced(g, &p.enforced);
            g.say(format_args!(
                "Blocklist version {} ({}): {} card(s) → {} and {}",
                p.version,
                if p.new_version { "new" } else { "unchanged" },
                p.cards,
                p.file,
                p.csv
            ));
            g.print_json(&p);
        }
    }
    Ok(())
}

fn default_job_folder(home: &crate::home::Home, today: NaiveDate) -> PathBuf {
    let base = home.exports().join("print-jobs");
    (1..)
        .map(|n| base.join(format!("{today}-{n}")))
        .find(|p| !p.exists())
        .expect("an unused folder name")
}

fn print_card(config: &Config, s: &cards::Shown, lang: Lang) {
    let c = &s.card;
    let grouped = CardNumber::parse(&c.number)
        .map(|n| n.grouped())
        .unwrap_or_default();
    let state = match (c.state, c.reason) {
        (st, Some(r)) => format!("{st} ({r})"),
        (st, None) => st.to_string(),
    };
    println!("Card {grouped} ({}): {state}", c.number);
    println!("  holder:    {} {}", c.social_number, c.holder);
    let category = config
        .category(&c.category)
        .map_or(c.category.clone(), |cat| match lang {
            Lang::En if !cat.name_en.is_empty() => cat.name_en.clone(),
            _ => cat.name.clone(),
        });
    let community = config
        .community(&c.community)
        .map_or(c.community.clone(), |m| m.name.clone());
    println!("  category:  {category}; community: {community}");
    println!("  valid:     {} to {}", c.valid_from, c.valid_to);
    match &c.replaces {
        None => println!("  issue {}: free to the holder", c.issue),
        Some(old) => println!(
            "  issue {}: replaces {old}; fee {} paid, receipt {}",
            c.issue,
            money(c.fee_kopecks),
            c.receipt.as_deref().unwrap_or("")
        ),
    }
    let payer = config
        .community(&c.cost_payer)
        .map_or(c.cost_payer.clone(), |m| m.name.clone());
    println!("  cost:      {} charged to {payer}", money(c.cost_kopecks));
    if let Some(uid) = &c.uid {
        println!("  chip UID:  {uid}");
    }
    if let Some(by) = &c.replaced_by {
        println!("  replaced by card {by}");
    }
    println!("  history:");
    for e in &s.events {
        let what = match e.reason {
            Some(r) => format!("{} ({r})", e.state),
            None => e.state.to_string(),
        };
        let effective = if e.effective != e.at {
            format!(", effective {}", crate::time::stored_as_kyiv(&e.effective))
        } else {
            String::new()
        };
        println!(
            "    {}  {what:<24} by {}{effective}{}",
            crate::time::stored_as_kyiv(&e.at),
            e.operator,
            e.detail
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        );
    }
}

fn print_inspection(i: &cards::inspect::Inspection) {
    println!("UID {} ({} dump)", i.uid, i.format.name());
    if let Some(a) = &i.application {
        println!(
            "card {}: {} of {}, valid {} to {}, issue {}, {}",
            a.card,
            a.category,
            a.community,
            a.valid_from,
            a.valid_to,
            a.issue,
            if a.trip_limit > 0 {
                format!("{} trips a month", a.trip_limit)
            } else {
                "no trip limit".into()
            }
        );
    }
    if let Some(n) = i.trips {
        println!("trip counter: {n}");
    }
    match &i.last_validation {
        Some(l) => println!(
            "last validation: {} on route {}, vehicle {}, validator {}, zone {} ({} trips that month)",
            l.at, l.route, l.vehicle, l.validator, l.zone, l.month_trips
        ),
        None => println!("last validation: none"),
    }
    for f in &i.findings {
        println!("  {} {}", if f.ok { "ok  " } else { "FAIL" }, f.what);
    }
}

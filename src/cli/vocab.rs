//! `kartka vocab`: teach the intake a text offices write (a category, a
//! community, a column header) once; every import uses the answer after.

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::intake::taught::{self, Added, Kind};
use crate::registry::Registry;

#[derive(Debug, clap::Args)]
#[command(after_help = format!("The answers live in the home's registry and are used by every import from then on;\n\
`kartka import applicants --columns FILE` shows which a file uses. An answer adds a text, it never\n\
changes what kartka.toml already says.\n\n\
Examples:\n  kartka vocab add header \"Пільговий документ, статус\" category\n  kartka vocab add category \"воїн-афганець\" combatant\n  kartka vocab add community \"с. Новоселівка\" UA12120030000091426\n  kartka vocab list\n  kartka vocab remove category \"воїн-афганець\"\n\n{}", crate::exit::help("vocab")))]
pub struct Args {
    #[command(subcommand)]
    command: VocabCommand,
}

#[derive(Debug, clap::Subcommand)]
enum VocabCommand {
    /// Teach that TEXT (as the office writes it) means CODE: a category or
    /// community code or name of kartka.toml, or for a header a field
    /// (surname, birth_date, category, …) or one of its header names.
    Add {
        kind: Kind,
        text: String,
        code: String,
    },
    /// Every answer taught, oldest first.
    List,
    /// Forget the answer for TEXT.
    Remove { kind: Kind, text: String },
}

pub fn action(a: &Args) -> crate::access::Action {
    crate::access::Action::Vocab {
        change: !matches!(a.command, VocabCommand::List),
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let mut reg = Registry::open(&home.registry())?;
    match args.command {
        VocabCommand::Add { kind, text, code } => {
            let (answer, added) =
                taught::add(&mut reg, &config, kind, &text, &code, &g.operator())?;
            let said = match &added {
                Added::New => format!("Taught: «{}» means {}.", answer.written, answer.code),
                Added::Replaced { was } => format!(
                    "Taught: «{}» now means {} (it meant {was}).",
                    answer.written, answer.code
                ),
                Added::Known => format!(
                    "Already known: «{}» means {}; nothing changed.",
                    answer.written, answer.code
                ),
            };
            g.say(said);
            g.print_json(&serde_json::json!({
                "answer": answer,
                "added": match added { Added::New => "new", Added::Replaced { .. } => "replaced", Added::Known => "known" },
            }));
        }
        VocabCommand::List => {
            let answers = taught::list(&reg)?;
            if answers.is_empty() {
                g.say("Nothing taught yet: kartka.toml's names are all the intake reads.");
            }
            for a in &answers {
                g.say(format_args!(
                    "{:<9} «{}» → {}   ({}, {})",
                    a.kind.code(),
                    a.written,
                    a.code,
                    a.by,
                    a.at
                ));
            }
            g.print_json(&serde_json::json!({ "answers": answers }));
        }
        VocabCommand::Remove { kind, text } => {
            let was = taught::remove(&mut reg, kind, &text)?;
            match &was {
                Some(code) => g.say(format_args!("Forgotten: «{text}» (it meant {code}).")),
                None => g.say(format_args!(
                    "Nothing was taught for «{text}»; nothing changed."
                )),
            }
            g.print_json(&serde_json::json!({ "removed": was }));
        }
    }
    Ok(())
}

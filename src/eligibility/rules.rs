//! The eligibility rules (P1–P4, P9, P18) as one pure function: an
//! application and the parameters in force in, a decision with its rule
//! trace out. Nothing here reads the clock or the registry, so a decision is
//! reproducible years later from what it recorded.

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Eligible,
    Ineligible,
    Incomplete,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Eligible => "eligible",
            Outcome::Ineligible => "ineligible",
            Outcome::Incomplete => "incomplete",
        }
    }
    pub fn from_code(s: &str) -> Option<Outcome> {
        match s {
            "eligible" => Some(Outcome::Eligible),
            "ineligible" => Some(Outcome::Ineligible),
            "incomplete" => Some(Outcome::Incomplete),
            _ => None,
        }
    }
}

/// What a decision is made from: the application as the registry holds it.
#[derive(Debug, Clone, Default)]
pub struct Application {
    pub birth_date: Option<NaiveDate>,
    pub community: String,
    pub categories: Vec<String>,
    pub chosen_category: Option<String>,
    pub benefit_document: Option<String>,
    pub benefit_valid_until: Option<NaiveDate>,
    pub income_pension: Option<i64>,
    pub income_salary: Option<i64>,
    pub income_aid: Option<i64>,
    pub income_total: Option<i64>,
    pub has_passport: bool,
    pub has_tax_number: bool,
    /// Documents handed in, as recorded (codes or names), comma-separated.
    pub documents: Option<String>,
    pub death_date: Option<NaiveDate>,
}

/// One rule's line in the trace: the value seen, the parameter used, the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub rule: &'static str,
    pub seen: String,
    pub parameter: String,
    pub pass: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub uk: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub category: Option<String>,
    pub other_categories: Vec<String>,
    pub community: String,
    pub as_of: NaiveDate,
    /// The benefit's end (P9): the decision ends on this date.
    pub valid_until: Option<NaiveDate>,
    pub reasons: Vec<Reason>,
    /// Documents to bring, for an incomplete decision (P4).
    pub missing_documents: Vec<String>,
    pub trace: Vec<Check>,
    /// The income limit applied, in kopecks, and the date it is in force from.
    pub income_limit: Option<(i64, NaiveDate)>,
}

fn kop(k: i64) -> String {
    crate::money::uah(k)
}

use crate::vocab::Match;

/// The document kinds, matched once per process.
static DOCUMENTS: std::sync::LazyLock<crate::vocab::Vocabulary> =
    std::sync::LazyLock::new(crate::vocab::documents);

/// Document codes a recorded list names: codes as in kartka.toml, or the
/// words clerks use, matched as `vocab` matches them.
fn document_codes(recorded: &str) -> Vec<String> {
    recorded
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match DOCUMENTS.find(s) {
            // In a list of documents handed in, a bare «посвідчення» beside
            // «пенсійне посвідчення» is the benefit certificate.
            Match::Ambiguous(codes) if codes.iter().any(|c| c == "benefit-certificate") => {
                "benefit-certificate".to_string()
            }
            m => m
                .code()
                .map_or_else(|| crate::text::match_key(s), str::to_string),
        })
        .collect()
}

/// The documents an application shows, each with the field it was taken
/// from. An explicit documents column decides; without one, the form's own
/// fields are the evidence (P5): the passport, the tax number, and the
/// benefit document, whose text names its kind («ПП №…» is a pension
/// certificate).
fn documents_presented(app: &Application) -> Vec<(String, String)> {
    let mut present: Vec<(String, String)> = Vec::new();
    let mut add = |code: &str, from: String| {
        if !present.iter().any(|(c, _)| c == code) {
            present.push((code.to_string(), from));
        }
    };
    if let Some(d) = app.documents.as_deref() {
        for code in document_codes(d) {
            add(&code, "the documents column".into());
        }
    }
    if app.has_passport {
        add("passport", "the passport field".into());
    }
    if app.has_tax_number {
        add("tax-number", "the tax-number field".into());
    }
    if let Some(text) = app.benefit_document.as_deref() {
        add("benefit-certificate", "the benefit-document field".into());
        // A cell may name several documents («пенс. посв. № …, довідка
        // МСЕК …»): each part is a document shown.
        if app.documents.is_none() {
            for part in text.split([',', ';', '\n', '+']).map(str::trim) {
                if let Some(code) = DOCUMENTS.find(part).code() {
                    add(code, format!("the benefit-document field «{text}»"));
                }
            }
        }
    }
    present
}

/// A document's name as the office writes it to the applicant.
pub fn document_name_uk(code: &str) -> &str {
    match code {
        "passport" => "паспорт",
        "tax-number" => "РНОКПП",
        "benefit-certificate" => "посвідчення пільговика",
        "pension-certificate" => "пенсійне посвідчення",
        "work-record" => "трудова книжка",
        "income-statement" => "довідка про доходи",
        "aid-statement" => "довідка про розмір допомоги",
        "birth-certificate" => "свідоцтво про народження",
        other => other,
    }
}

/// A decision being made: the trace of the rules checked, the reasons
/// given, and what they found.
struct Deciding<'a> {
    app: &'a Application,
    config: &'a Config,
    as_of: NaiveDate,
    trace: Vec<Check>,
    reasons: Vec<Reason>,
    ineligible: bool,
    missing_documents: Vec<String>,
    income_limit: Option<(i64, NaiveDate)>,
}

/// Decides one application on `as_of` with the parameters of `config`:
/// alive (P9), resident (P1, P18), a valid category (P2), its documents
/// (P4) and, where the category is income-tested, the income (P3).
pub fn decide(app: &Application, config: &Config, as_of: NaiveDate) -> Decision {
    let mut d = Deciding {
        app,
        config,
        as_of,
        trace: Vec::new(),
        reasons: Vec::new(),
        ineligible: false,
        missing_documents: Vec::new(),
        income_limit: None,
    };
    d.alive();
    d.residency();
    let valid = d.valid_categories();
    let chosen = d.choose(&valid);
    if let Some(cat) = chosen {
        d.documents(cat);
        if cat.income_tested {
            d.income();
        }
    } else if app.categories.is_empty() {
        d.fail(
            "no-category",
            "не вказано пільгової категорії".into(),
            "no benefit category".into(),
        );
    }
    d.conclude(chosen)
}

impl<'a> Deciding<'a> {
    fn check(&mut self, rule: &'static str, seen: String, parameter: String, pass: bool) {
        self.trace.push(Check {
            rule,
            seen,
            parameter,
            pass,
        });
    }

    /// A reason the person is not eligible.
    fn fail(&mut self, code: &'static str, uk: String, en: String) {
        self.ineligible = true;
        self.reasons.push(Reason { code, uk, en });
    }

    /// P9: a recorded death ends the right.
    fn alive(&mut self) {
        let (app, as_of) = (self.app, self.as_of);
        let dead = app.death_date.is_some_and(|d| d <= as_of);
        self.check(
            "alive",
            app.death_date
                .map_or("no date of death".into(), |d| format!("died {d}")),
            format!("as of {as_of}"),
            !dead,
        );
        if dead {
            self.fail(
                "deceased",
                "особа померла".into(),
                "the person has died".into(),
            );
        }
    }

    /// P1, P18: registered in the city or a partner community.
    fn residency(&mut self) {
        let app = self.app;
        let resident = self.config.community(&app.community).is_some();
        self.check(
            "residency",
            app.community.clone(),
            format!(
                "the city {} or a partner community in kartka.toml",
                self.config.city.community
            ),
            resident,
        );
        if !resident {
            self.fail(
                "not-resident",
                format!(
                    "громада {} не є містом чи громадою-партнером",
                    app.community
                ),
                format!(
                    "community {} is neither the city nor a partner community",
                    app.community
                ),
            );
        }
    }

    /// The categories that are known, with a benefit document not expired.
    fn valid_categories(&mut self) -> Vec<&'a crate::config::Category> {
        let (app, as_of) = (self.app, self.as_of);
        let mut valid = Vec::new();
        for code in &app.categories {
            let Some(cat) = self.config.category(code) else {
                self.check(
                    "category-known",
                    code.clone(),
                    "categories in kartka.toml".into(),
                    false,
                );
                continue;
            };
            let expired = app.benefit_valid_until.is_some_and(|d| d < as_of);
            self.check(
                "benefit-term",
                app.benefit_valid_until
                    .map_or("no end date".into(), |d| format!("valid until {d}")),
                format!("{code}, as of {as_of}"),
                !expired,
            );
            if !expired {
                valid.push(cat);
            }
        }
        if valid.is_empty() && !app.categories.is_empty() {
            self.fail(
                "benefit-expired",
                format!(
                    "строк дії пільги закінчився {}",
                    app.benefit_valid_until
                        .map_or("—".into(), |d| d.format("%d.%m.%Y").to_string())
                ),
                format!(
                    "the benefit's term ended on {}",
                    app.benefit_valid_until
                        .map_or("—".into(), |d| d.to_string())
                ),
            );
        }
        valid
    }

    /// P2: one category. An explicit choice wins, else one needing no
    /// income test, else the first valid one.
    fn choose(
        &mut self,
        valid: &[&'a crate::config::Category],
    ) -> Option<&'a crate::config::Category> {
        let app = self.app;
        let chosen = app
            .chosen_category
            .as_ref()
            .and_then(|c| valid.iter().find(|v| &v.code == c))
            .or_else(|| valid.iter().find(|c| !c.income_tested))
            .or_else(|| valid.first())
            .copied();
        self.check(
            "one-category",
            app.categories.join(", "),
            app.chosen_category.as_ref().map_or(
                "no explicit choice: a category without income test first".into(),
                |c| format!("chosen in the application: {c}"),
            ),
            chosen.is_some(),
        );
        chosen
    }

    /// P4: the documents the category needs. A person without a tax
    /// number, identified by the passport (a refusal on religious grounds,
    /// marked in the passport), has no certificate of one to bring.
    fn documents(&mut self, cat: &crate::config::Category) {
        let app = self.app;
        let present = documents_presented(app);
        let no_tax_number = !app.has_tax_number && app.has_passport;
        for doc in &cat.documents {
            if doc == "tax-number" && no_tax_number {
                continue;
            }
            if !present.iter().any(|(c, _)| c == doc) {
                self.missing_documents.push(doc.clone());
            }
        }
        let mut seen: Vec<String> = present
            .iter()
            .map(|(c, from)| format!("{c} (from {from})"))
            .collect();
        if no_tax_number && cat.documents.iter().any(|d| d == "tax-number") {
            seen.push("no tax number: identified by the passport, tax-number not required".into());
        }
        let pass = self.missing_documents.is_empty();
        self.check(
            "documents",
            if seen.is_empty() {
                "none".into()
            } else {
                seen.join(", ")
            },
            format!("{} needs: {}", cat.code, cat.documents.join(", ")),
            pass,
        );
    }

    /// P3: the income counted (the kinds kartka.toml counts, else the
    /// total) against the limit in force on the decision date.
    fn income(&mut self) {
        let (app, as_of) = (self.app, self.as_of);
        let rules = &self.config.income;
        let counted: Vec<i64> = [
            ("pension", app.income_pension),
            ("salary", app.income_salary),
            ("aid", app.income_aid),
        ]
        .iter()
        .filter(|(k, _)| rules.counts.iter().any(|c| c == k))
        .filter_map(|(_, v)| *v)
        .collect();
        let income = if counted.is_empty() {
            app.income_total
        } else {
            Some(counted.iter().sum())
        };
        let limit = match (income, self.config.income_limit_on(as_of)) {
            (_, None) => {
                return self.fail(
                    "no-income-limit",
                    format!("у kartka.toml немає межі доходу на {as_of}"),
                    format!("kartka.toml has no income limit in force on {as_of}"),
                );
            }
            (None, Some(_)) => {
                self.missing_documents.push("income-statement".into());
                return self.check(
                    "income",
                    "no income recorded".into(),
                    "an income statement is needed".into(),
                    false,
                );
            }
            (Some(income), Some(limit)) => (income, limit),
        };
        let (income, limit) = limit;
        let limit_kop = limit.limit_uah * 100;
        self.income_limit = Some((limit_kop, limit.from));
        let pass = if rules.inclusive {
            income <= limit_kop
        } else {
            income < limit_kop
        };
        self.check(
            "income",
            kop(income),
            format!(
                "{} {} (limit from {}, {} of {})",
                if rules.inclusive { "≤" } else { "<" },
                kop(limit_kop),
                limit.from,
                rules.basis,
                rules.counts.join("+")
            ),
            pass,
        );
        if !pass {
            self.fail(
                "income-over-limit",
                format!(
                    "дохід {} перевищує межу {} (з {})",
                    kop(income),
                    kop(limit_kop),
                    limit.from.format("%d.%m.%Y")
                ),
                format!(
                    "income {} is over the limit {} (from {})",
                    kop(income),
                    kop(limit_kop),
                    limit.from
                ),
            );
        }
    }

    /// The outcome: ineligible on any failed rule, else incomplete while a
    /// document is missing, else eligible as the chosen category.
    fn conclude(mut self, chosen: Option<&crate::config::Category>) -> Decision {
        let app = self.app;
        let outcome = if self.ineligible {
            Outcome::Ineligible
        } else if !self.missing_documents.is_empty() {
            self.reasons.push(Reason {
                code: "documents-missing",
                uk: format!(
                    "потрібно подати: {}",
                    self.missing_documents
                        .iter()
                        .map(|d| document_name_uk(d))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                en: format!("bring: {}", self.missing_documents.join(", ")),
            });
            Outcome::Incomplete
        } else {
            self.reasons.push(Reason {
                code: "eligible",
                uk: format!(
                    "має право на пільговий проїзд як {}",
                    chosen.map_or("—", |c| c.name.as_str())
                ),
                en: format!(
                    "entitled to free travel as {}",
                    chosen.map_or("—", |c| c.name_en.as_str())
                ),
            });
            Outcome::Eligible
        };
        Decision {
            outcome,
            category: chosen.map(|c| c.code.clone()),
            other_categories: app
                .categories
                .iter()
                .filter(|c| chosen.is_none_or(|ch| &ch.code != *c))
                .cloned()
                .collect(),
            community: app.community.clone(),
            as_of: self.as_of,
            valid_until: if outcome == Outcome::Eligible {
                app.benefit_valid_until
            } else {
                None
            },
            reasons: self.reasons,
            missing_documents: self.missing_documents,
            trace: self.trace,
            income_limit: self.income_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const CITY: &str = "UA12120130000022766";
    const PARTNER: &str = "UA12120190000064981";

    fn pensioner(income_kop: i64) -> Application {
        Application {
            community: CITY.into(),
            categories: vec!["pensioner-age".into()],
            benefit_document: Some("ПП-1".into()),
            income_pension: Some(income_kop),
            has_passport: true,
            has_tax_number: true,
            documents: Some("pension-certificate".into()),
            ..Application::default()
        }
    }

    struct Case {
        name: &'static str,
        app: Application,
        as_of: &'static str,
        outcome: Outcome,
        category: Option<&'static str>,
        reason: &'static str,
    }

    #[test]
    fn two_documents_in_one_cell_are_read_apart() {
        let cell = "довідка МСЕК № 12/345, пенс. посв. № 123456";
        assert_ne!(DOCUMENTS.find(cell).code(), Some("pension-certificate"));
        let app = Application {
            documents: None,
            benefit_document: Some(cell.into()),
            ..pensioner(100)
        };
        let codes: Vec<String> = documents_presented(&app)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert!(
            codes.contains(&"pension-certificate".to_string()),
            "{codes:?}"
        );
    }

    #[test]
    fn every_rule_and_its_edges() {
        let cases = vec![
            Case {
                name: "income exactly at the 2026 limit passes (inclusive)",
                app: pensioner(466_000),
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("pensioner-age"),
                reason: "eligible",
            },
            Case {
                name: "one kopeck over the limit fails",
                app: pensioner(466_001),
                as_of: "2026-03-01",
                outcome: Outcome::Ineligible,
                category: Some("pensioner-age"),
                reason: "income-over-limit",
            },
            Case {
                name: "31 Dec 2025 uses the 2025 limit (4240)",
                app: pensioner(450_000),
                as_of: "2025-12-31",
                outcome: Outcome::Ineligible,
                category: Some("pensioner-age"),
                reason: "income-over-limit",
            },
            Case {
                name: "1 Jan 2026 uses the 2026 limit (4660)",
                app: pensioner(450_000),
                as_of: "2026-01-01",
                outcome: Outcome::Eligible,
                category: Some("pensioner-age"),
                reason: "eligible",
            },
            Case {
                name: "several categories: the one without income test is used",
                app: Application {
                    categories: vec!["pensioner-age".into(), "combatant".into()],
                    ..pensioner(900_000)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("combatant"),
                reason: "eligible",
            },
            Case {
                name: "an explicit choice wins, and its income test applies",
                app: Application {
                    categories: vec!["pensioner-age".into(), "combatant".into()],
                    chosen_category: Some("pensioner-age".into()),
                    ..pensioner(900_000)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Ineligible,
                category: Some("pensioner-age"),
                reason: "income-over-limit",
            },
            Case {
                name: "an expired benefit is ineligible",
                app: Application {
                    categories: vec!["disability-2".into()],
                    benefit_valid_until: Some(d("2026-02-28")),
                    income_pension: None,
                    ..pensioner(0)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Ineligible,
                category: None,
                reason: "benefit-expired",
            },
            Case {
                name: "a partner-community resident is eligible, recorded with the community",
                app: Application {
                    community: PARTNER.into(),
                    categories: vec!["combatant".into()],
                    ..pensioner(0)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("combatant"),
                reason: "eligible",
            },
            Case {
                name: "an unknown community is not residency",
                app: Application {
                    community: "UA63000000000000000".into(),
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Ineligible,
                category: Some("pensioner-age"),
                reason: "not-resident",
            },
            Case {
                name: "a person identified by the passport (no tax number, refused on religious grounds) is not sent for one",
                app: Application {
                    has_tax_number: false,
                    has_passport: true,
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("pensioner-age"),
                reason: "eligible",
            },
            Case {
                name: "a person with neither a passport nor a tax number lacks both",
                app: Application {
                    has_tax_number: false,
                    has_passport: false,
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Incomplete,
                category: Some("pensioner-age"),
                reason: "documents-missing",
            },
            Case {
                name: "without a documents column, «ПП №…» in the benefit document is the pension certificate",
                app: Application {
                    documents: None,
                    benefit_document: Some("ПП №123456".into()),
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("pensioner-age"),
                reason: "eligible",
            },
            Case {
                name: "a benefit-document cell naming two documents presents both",
                app: Application {
                    documents: None,
                    benefit_document: Some("довідка МСЕК № 12/345, пенс. посв. № 123456".into()),
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Eligible,
                category: Some("pensioner-age"),
                reason: "eligible",
            },
            Case {
                name: "without a documents column, a benefit document naming no pension certificate leaves it missing",
                app: Application {
                    documents: None,
                    benefit_document: Some("№123456".into()),
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Incomplete,
                category: Some("pensioner-age"),
                reason: "documents-missing",
            },
            Case {
                name: "no income recorded for an income-tested category is incomplete",
                app: Application {
                    income_pension: None,
                    ..pensioner(0)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Incomplete,
                category: Some("pensioner-age"),
                reason: "documents-missing",
            },
            Case {
                name: "a recorded death ends the right",
                app: Application {
                    death_date: Some(d("2026-02-01")),
                    ..pensioner(100)
                },
                as_of: "2026-03-01",
                outcome: Outcome::Ineligible,
                category: Some("pensioner-age"),
                reason: "deceased",
            },
        ];
        let config = Config::default_config();
        for c in cases {
            let decision = decide(&c.app, &config, d(c.as_of));
            assert_eq!(
                decision.outcome, c.outcome,
                "{}: {:?}",
                c.name, decision.reasons
            );
            assert_eq!(decision.category.as_deref(), c.category, "{}", c.name);
            assert!(
                decision.reasons.iter().any(|r| r.code == c.reason),
                "{}: {:?}",
                c.name,
                decision.reasons
            );
            assert!(
                decision
                    .reasons
                    .iter()
                    .all(|r| !r.uk.is_empty() && !r.en.is_empty()),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn the_decision_names_the_other_categories_and_the_benefit_end() {
        let config = Config::default_config();
        let app = Application {
            categories: vec!["pensioner-age".into(), "disability-2".into()],
            benefit_valid_until: Some(d("2027-04-30")),
            ..pensioner(100)
        };
        let decision = decide(&app, &config, d("2026-03-01"));
        assert_eq!(decision.category.as_deref(), Some("disability-2"));
        assert_eq!(decision.other_categories, vec!["pensioner-age".to_string()]);
        assert_eq!(decision.valid_until, Some(d("2027-04-30")));
    }

    #[test]
    fn the_trace_shows_the_limit_used() {
        let config = Config::default_config();
        let decision = decide(&pensioner(466_001), &config, d("2026-06-01"));
        let income = decision.trace.iter().find(|c| c.rule == "income").unwrap();
        assert_eq!(income.seen, "4660.01 UAH");
        assert!(
            income
                .parameter
                .contains("≤ 4660.00 UAH (limit from 2026-01-01"),
            "{}",
            income.parameter
        );
        assert!(!income.pass);
        assert_eq!(decision.income_limit, Some((466_000, d("2026-01-01"))));
    }
}

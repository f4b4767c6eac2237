//! The rules' codes: stable names (stored, printed, used in the review
//! workbook and by the DuckDB peer), the rule number, a severity,
//! and a title in Ukrainian and English.
//!
//! A rule's severity decides whether its hit holds a tap's money: the one
//! table `severity.csv`, read here and by the SQL peers
//! (scripts/flag_common.py).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    RepeatSameVehicle = 1,
    ImpossibleTravel,
    DriverBurst,
    SingleVehicleCard,
    ExcessiveDailyUse,
    CardUnknown,
    CardBlocked,
    CardExpired,
    HolderDeceased,
    OutsideServiceHours,
    RouteNotServed,
    ClonedUid,
    CounterBackwards,
    ClockAnomaly,
    TripLimit,
    /// Not a fraud rule: the taps a configuration suspect holds instead of
    /// the rule that fired because of the configuration: a cause seen on
    /// several days of the month, or most of a busy validator's day
    /// (`flags::suspects`).
    ConfigSuspect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Reported with its evidence for an analyst to look at, and paid
    /// unless the analyst holds it (`kartka taps hold`).
    Review,
    /// Not paid by rule (P13), nothing to investigate.
    Info,
    /// Evidence strong enough to withhold the money: not paid until an
    /// analyst clears it.
    Hold,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Review => "review",
            Severity::Info => "info",
            Severity::Hold => "hold",
        }
    }
    pub fn title(self, en: bool) -> &'static str {
        match (self, en) {
            (Severity::Review, false) => "до перевірки",
            (Severity::Info, false) => "інформація",
            (Severity::Hold, false) => "утримати",
            (s, true) => s.code(),
        }
    }
    /// Whether a hit of this severity holds the tap (not paid) until an
    /// analyst clears it.
    pub fn holds(self) -> bool {
        self != Severity::Review
    }
    fn from_code(code: &str) -> Option<Severity> {
        [Severity::Review, Severity::Info, Severity::Hold]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// `severity.csv`: each rule's code and severity, one line each.
pub const SEVERITY_CSV: &str = include_str!("severity.csv");

/// Each rule's severity, by its id, from `SEVERITY_CSV` (checked whole by
/// the unit tests: every rule once, every severity known).
static SEVERITIES: std::sync::LazyLock<[Severity; ALL.len() + 1]> =
    std::sync::LazyLock::new(|| {
        let mut out = [Severity::Hold; ALL.len() + 1];
        for line in SEVERITY_CSV.lines().skip(1) {
            let Some((code, sev)) = line.trim().split_once(',') else {
                continue;
            };
            if let (Some(r), Some(s)) = (Rule::from_code(code), Severity::from_code(sev)) {
                out[r as usize] = s;
            }
        }
        out
    });

/// The rules that speak of a passenger or a driver (what the generator
/// plants and the benchmark measures).
pub const FRAUD: [Rule; 15] = [
    Rule::RepeatSameVehicle,
    Rule::ImpossibleTravel,
    Rule::DriverBurst,
    Rule::SingleVehicleCard,
    Rule::ExcessiveDailyUse,
    Rule::CardUnknown,
    Rule::CardBlocked,
    Rule::CardExpired,
    Rule::HolderDeceased,
    Rule::OutsideServiceHours,
    Rule::RouteNotServed,
    Rule::ClonedUid,
    Rule::CounterBackwards,
    Rule::ClockAnomaly,
    Rule::TripLimit,
];

/// Every code a flag can carry: the fraud rules and the configuration
/// suspect.
pub const ALL: [Rule; 16] = {
    let mut all = [Rule::ConfigSuspect; 16];
    let mut i = 0;
    while i < FRAUD.len() {
        all[i] = FRAUD[i];
        i += 1;
    }
    all
};

impl Rule {
    pub fn from_id(id: i32) -> Option<Rule> {
        ALL.iter().copied().find(|r| *r as i32 == id)
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        ALL.iter().copied().find(|r| r.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Rule::RepeatSameVehicle => "repeat_same_vehicle",
            Rule::ImpossibleTravel => "impossible_travel",
            Rule::DriverBurst => "driver_burst",
            Rule::SingleVehicleCard => "single_vehicle_card",
            Rule::ExcessiveDailyUse => "excessive_daily_use",
            Rule::CardUnknown => "card_unknown",
            Rule::CardBlocked => "card_blocked",
            Rule::CardExpired => "card_expired",
            Rule::HolderDeceased => "holder_deceased",
            Rule::OutsideServiceHours => "outside_service_hours",
            Rule::RouteNotServed => "route_not_served",
            Rule::ClonedUid => "cloned_uid",
            Rule::CounterBackwards => "counter_backwards",
            Rule::ClockAnomaly => "clock_anomaly",
            Rule::TripLimit => "trip_limit",
            Rule::ConfigSuspect => "config_suspect",
        }
    }

    /// The rule's number in issue 7's list; 0 for a configuration suspect,
    /// which is not one of them.
    pub fn number(self) -> u8 {
        match self {
            Rule::ConfigSuspect => 0,
            Rule::RepeatSameVehicle => 1,
            Rule::ImpossibleTravel => 2,
            Rule::DriverBurst | Rule::SingleVehicleCard => 3,
            Rule::ExcessiveDailyUse => 4,
            Rule::CardUnknown | Rule::CardBlocked | Rule::CardExpired | Rule::HolderDeceased => 5,
            Rule::OutsideServiceHours => 6,
            Rule::RouteNotServed => 7,
            Rule::ClonedUid | Rule::CounterBackwards => 8,
            Rule::ClockAnomaly => 9,
            Rule::TripLimit => 10,
        }
    }

    /// The rule's severity (`severity.csv`): whether its hit holds the
    /// tap or is for review.
    pub fn severity(self) -> Severity {
        SEVERITIES[self as usize]
    }

    /// Whether the rule's hit holds the tap's money until an analyst
    /// clears it; the other rules' hits are for review, paid unless an
    /// analyst holds them.
    pub fn holds(self) -> bool {
        self.severity().holds()
    }

    pub fn title(self, en: bool) -> &'static str {
        match (self, en) {
            (Rule::RepeatSameVehicle, false) => "Повторна валідація в тому ж транспортному засобі",
            (Rule::RepeatSameVehicle, true) => "Repeat tap in the same vehicle",
            (Rule::ImpossibleTravel, false) => "Та сама картка у двох транспортних засобах",
            (Rule::ImpossibleTravel, true) => "Same card on two vehicles too soon",
            (Rule::DriverBurst, false) => "Пачка карток на одному валідаторі",
            (Rule::DriverBurst, true) => "Burst of cards on one validator",
            (Rule::SingleVehicleCard, false) => "Картка лише в одному транспортному засобі",
            (Rule::SingleVehicleCard, true) => "Card only ever seen on one vehicle",
            (Rule::ExcessiveDailyUse, false) => "Надмірне використання за добу",
            (Rule::ExcessiveDailyUse, true) => "Excessive daily use",
            (Rule::CardUnknown, false) => "Невідома картка",
            (Rule::CardUnknown, true) => "Unknown card",
            (Rule::CardBlocked, false) => "Заблокована картка",
            (Rule::CardBlocked, true) => "Blocked card",
            (Rule::CardExpired, false) => "Картка поза строком дії",
            (Rule::CardExpired, true) => "Card outside its validity",
            (Rule::HolderDeceased, false) => "Власник картки помер",
            (Rule::HolderDeceased, true) => "Holder deceased",
            (Rule::OutsideServiceHours, false) => "Поза годинами руху маршруту",
            (Rule::OutsideServiceHours, true) => "Outside the route's service hours",
            (Rule::RouteNotServed, false) => "Маршрут, який перевізник не обслуговує",
            (Rule::RouteNotServed, true) => "Route its carrier does not serve",
            (Rule::ClonedUid, false) => "Клон картки: інший UID",
            (Rule::ClonedUid, true) => "Cloned card: another UID",
            (Rule::CounterBackwards, false) => "Лічильник поїздок картки пішов назад",
            (Rule::CounterBackwards, true) => "Card's trip counter went backwards",
            (Rule::ClockAnomaly, false) => "Збій годинника валідатора",
            (Rule::ClockAnomaly, true) => "Validator clock anomaly",
            (Rule::TripLimit, false) => "Перевищено ліміт поїздок",
            (Rule::TripLimit, true) => "Trip limit exceeded",
            (Rule::ConfigSuspect, false) => "Підозра на помилку налаштувань",
            (Rule::ConfigSuspect, true) => "Configuration suspect",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_ids_round_trip() {
        for r in ALL {
            assert_eq!(Rule::from_code(r.code()), Some(r));
            assert_eq!(Rule::from_id(r as i32), Some(r));
        }
        assert_eq!(Rule::from_code("nope"), None);
        let numbers: std::collections::BTreeSet<u8> = FRAUD.iter().map(|r| r.number()).collect();
        assert_eq!(numbers, (1..=10).collect());
    }

    #[test]
    fn the_severity_table_names_every_rule_once_with_a_known_severity() {
        let mut lines = SEVERITY_CSV.lines();
        assert_eq!(lines.next(), Some("code,severity"));
        let mut seen = std::collections::BTreeSet::new();
        for line in lines {
            let (code, sev) = line.split_once(',').expect(line);
            let r = Rule::from_code(code).expect(code);
            assert!(seen.insert(r), "{code} twice");
            assert!(Severity::from_code(sev).is_some(), "{line}");
            assert_eq!(r.severity().code(), sev);
        }
        assert_eq!(seen.len(), ALL.len());
        // Only evidence strong enough to withhold money holds.
        let holding: Vec<&str> = ALL.iter().filter(|r| r.holds()).map(|r| r.code()).collect();
        assert_eq!(
            holding,
            [
                "repeat_same_vehicle",
                "driver_burst",
                "card_unknown",
                "card_blocked",
                "card_expired",
                "holder_deceased",
                "cloned_uid",
                "trip_limit",
                "config_suspect"
            ]
        );
    }
}

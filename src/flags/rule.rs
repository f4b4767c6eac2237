//! The rules' codes: stable names (stored, printed, used in the review
//! workbook and by the DuckDB peer), the rule number, a severity,
//! and a title in Ukrainian and English.

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
    /// Not paid by rule (P13), nothing to investigate.
    Info,
    Medium,
    High,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
    pub fn title(self, en: bool) -> &'static str {
        match (self, en) {
            (Severity::Info, false) => "інформація",
            (Severity::Medium, false) => "середня",
            (Severity::High, false) => "висока",
            (s, true) => s.code(),
        }
    }
}

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

    pub fn severity(self) -> Severity {
        match self {
            Rule::RepeatSameVehicle => Severity::Info,
            Rule::ExcessiveDailyUse
            | Rule::OutsideServiceHours
            | Rule::RouteNotServed
            | Rule::ClockAnomaly
            | Rule::TripLimit
            | Rule::CardExpired
            | Rule::ConfigSuspect => Severity::Medium,
            Rule::ImpossibleTravel
            | Rule::DriverBurst
            | Rule::SingleVehicleCard
            | Rule::CardUnknown
            | Rule::CardBlocked
            | Rule::HolderDeceased
            | Rule::ClonedUid
            | Rule::CounterBackwards => Severity::High,
        }
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
}

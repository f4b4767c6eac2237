//! The one authorisation point for an account's scope: which carriers'
//! and routes' taps, flags, clearings and money it may see or change.
//!
//! A scoped account (a carrier, or an analyst limited to some carriers or
//! routes) meets its scope in three ways:
//!
//! - what it may not see is cut out before anything is shown or written:
//!   [`Scope::sees`] for one thing (a flag, a carrier's line) and
//!   [`Scope::tap_filter`] for the tap store's rows;
//! - what it may not change is refused whole ([`Need::Change`]): one thing
//!   outside the scope refuses them all, and nothing is changed;
//! - what only makes sense for the whole city (the budget, open data, the
//!   tap store's files, the fleet) is refused ([`Need::CityWide`]), and so
//!   is what covers whole carriers for an account limited to routes
//!   ([`Need::WholeCarriers`]).
//!
//! Every refusal exits 77 naming the account, its scope and the carrier of
//! what was refused, and is written to the audit trail here
//! ([`Session::authorise`], [`Session::refused`]).

use polars::prelude::{DataType, Expr, col, lit};

use super::{Error, Scope, Session};
use crate::registry::Registry;

/// Something a command would change, with whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    /// As the user named it, e.g. `F-7-123`.
    pub id: String,
    /// Its carrier; `None` for a tap of a vehicle no carrier runs.
    pub carrier: Option<i64>,
    /// Its route.
    pub route: Option<i32>,
}

impl Owned {
    fn describe(&self) -> String {
        let carrier = self
            .carrier
            .map_or("no carrier".to_string(), |c| format!("carrier {c}"));
        match self.route {
            Some(r) => format!("{} is {carrier}'s, route {r}", self.id),
            None => format!("{} is {carrier}'s", self.id),
        }
    }
}

/// What a command needs of the account's scope.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Every carrier and route: `what` covers the whole city.
    CityWide { what: &'a str },
    /// Whole carriers: `what` cannot be cut to routes.
    WholeCarriers { what: &'a str },
    /// One carrier's data, named by the user as `code`.
    Carrier { id: i64, code: &'a str },
    /// Changing these things: all within the scope, or none.
    Change(&'a [Owned]),
}

impl Scope {
    /// Does the scope cover a thing of `carrier` on `route`? A thing of no
    /// carrier (or no route) is seen only by an account without a limit
    /// on carriers (or routes).
    pub fn sees(&self, carrier: Option<i64>, route: Option<i32>) -> bool {
        let carrier_ok =
            self.carriers.is_empty() || carrier.is_some_and(|c| self.carriers.contains(&c));
        let route_ok = self.routes.is_empty()
            || route.is_some_and(|r| self.route_numbers().any(|x| x == i64::from(r)));
        carrier_ok && route_ok
    }

    /// The route codes as the tap store holds them (a code that is not a
    /// number matches no tap).
    fn route_numbers(&self) -> impl Iterator<Item = i64> + '_ {
        self.routes
            .iter()
            .map(|r| r.trim().parse::<i64>().unwrap_or(-1))
    }

    /// The tap store's rows the scope covers, by their `carrier_id` and
    /// `route` columns; `None` when it covers every row.
    pub fn tap_filter(&self) -> Option<Expr> {
        let any = |column: &str, values: Vec<i64>| {
            values
                .into_iter()
                .map(|v| col(column).cast(DataType::Int64).eq(lit(v)))
                .reduce(|a, b| a.or(b))
        };
        let carriers = any("carrier_id", self.carriers.clone());
        let routes = any("route", self.route_numbers().collect());
        match (carriers, routes) {
            (Some(c), Some(r)) => Some(c.and(r)),
            (c, r) => c.or(r),
        }
    }

    /// Is `need` within the scope? The reason when it is not.
    pub fn check(&self, need: Need<'_>) -> Result<(), String> {
        let scope = self.describe();
        match need {
            Need::CityWide { what } if !self.is_all() => Err(format!(
                "{what} covers every carrier and route, and the account is limited to {scope}"
            )),
            Need::WholeCarriers { what } if !self.routes.is_empty() => Err(format!(
                "{what} covers whole carriers, and the account is limited to {scope}; `kartka report --by route` shows its routes"
            )),
            Need::Carrier { id, code } if !self.carrier(id) => Err(format!(
                "carrier {code} (id {id}) is outside the account's scope ({scope})"
            )),
            Need::Change(things) => {
                let outside: Vec<String> = things
                    .iter()
                    .filter(|t| !self.sees(t.carrier, t.route))
                    .map(Owned::describe)
                    .collect();
                if outside.is_empty() {
                    return Ok(());
                }
                const SHOWN: usize = 5;
                let more = match outside.len().saturating_sub(SHOWN) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                Err(format!(
                    "{}{more}: outside the account's scope ({scope}); nothing was changed",
                    outside[..outside.len().min(SHOWN)].join("; ")
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Session {
    /// The one authorisation point for the account's scope: `Ok` when
    /// `need` is within it, otherwise the refusal (77) naming the account
    /// and its scope, written to the audit trail first.
    pub fn authorise(&self, reg: &mut Registry, need: Need<'_>) -> Result<(), Error> {
        match self.scope().check(need) {
            Ok(()) => Ok(()),
            Err(why) => Err(self.refused(reg, self.refuse(why))),
        }
    }

    /// Records the refusal `e` in the audit trail (its first line) and
    /// returns it; a trail that cannot be written is the error instead.
    pub fn refused(&self, reg: &mut Registry, e: Error) -> Error {
        let text = e.to_string();
        let first_line = text.lines().next().unwrap_or_default();
        match self.record(reg, crate::audit::Outcome::Refused, &[], first_line) {
            Ok(()) => e,
            Err(r) => Error::Registry(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(carriers: &[i64], routes: &[&str]) -> Scope {
        Scope {
            carriers: carriers.to_vec(),
            routes: routes.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn owned(id: &str, carrier: Option<i64>, route: i32) -> Owned {
        Owned {
            id: id.into(),
            carrier,
            route: Some(route),
        }
    }

    #[test]
    fn a_scope_sees_its_carriers_and_routes_only() {
        let s = scope(&[1], &[]);
        assert!(s.sees(Some(1), Some(9)));
        assert!(!s.sees(Some(2), Some(9)));
        assert!(!s.sees(None, Some(9)), "a tap of no carrier is nobody's");
        let r = scope(&[], &["3"]);
        assert!(r.sees(Some(2), Some(3)));
        assert!(!r.sees(Some(2), Some(4)));
        assert!(scope(&[], &[]).sees(None, None));
        assert!(!scope(&[], &["x"]).sees(Some(1), Some(0)));
    }

    #[test]
    fn a_change_outside_is_refused_whole_naming_the_carrier() {
        let s = scope(&[1], &[]);
        let mine = owned("F-1-1", Some(1), 4);
        let theirs = owned("F-9-3", Some(2), 7);
        assert!(s.check(Need::Change(std::slice::from_ref(&mine))).is_ok());
        let why = s.check(Need::Change(&[mine, theirs])).unwrap_err();
        assert!(why.contains("F-9-3 is carrier 2's, route 7"), "{why}");
        assert!(why.contains("carriers 1"), "{why}");
        assert!(!why.contains("F-1-1"), "{why}");
        assert!(why.contains("nothing was changed"), "{why}");
    }

    #[test]
    fn city_wide_and_whole_carrier_needs() {
        let what = "the benefit budget";
        assert!(scope(&[], &[]).check(Need::CityWide { what }).is_ok());
        let why = scope(&[1], &[]).check(Need::CityWide { what }).unwrap_err();
        assert!(why.contains("limited to carriers 1"), "{why}");
        assert!(scope(&[1], &[]).check(Need::WholeCarriers { what }).is_ok());
        assert!(
            scope(&[], &["2"])
                .check(Need::WholeCarriers { what })
                .is_err()
        );
        let why = scope(&[1], &[])
            .check(Need::Carrier {
                id: 2,
                code: "30000002",
            })
            .unwrap_err();
        assert!(why.contains("carrier 30000002 (id 2)"), "{why}");
    }
}

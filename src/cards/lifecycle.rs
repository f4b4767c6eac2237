//! The card's life (P8, P9) as pure rules: its states, the reasons a card
//! stops working, and which moves are allowed. The store records each move
//! as an event; these functions decide whether it may happen.

use std::fmt;

/// Where a card is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Made in the registry, not yet sent to print.
    Issued,
    /// In a print job.
    Sent,
    /// Printed and encoded.
    Printed,
    /// In the holder's hand.
    Handed,
    /// Stopped for one of the reasons of P9.
    Blocked,
    /// Past its last valid day.
    Expired,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Issued,
        State::Sent,
        State::Printed,
        State::Handed,
        State::Blocked,
        State::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Issued => "issued",
            State::Sent => "sent",
            State::Printed => "printed",
            State::Handed => "handed",
            State::Blocked => "blocked",
            State::Expired => "expired",
        }
    }

    pub fn from_code(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A live card may still be (or become) used on a bus.
    pub fn is_live(self) -> bool {
        !matches!(self, State::Blocked | State::Expired)
    }

    pub fn uk(self) -> &'static str {
        match self {
            State::Issued => "видана в реєстрі",
            State::Sent => "надіслана до друку",
            State::Printed => "надрукована",
            State::Handed => "вручена",
            State::Blocked => "заблокована",
            State::Expired => "строк дії минув",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a card stops working (P9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Lost,
    Damaged,
    /// The name (or other data) printed on it changed.
    DataChanged,
    Death,
    HolderRequest,
    BenefitEnded,
    TripLimit,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::Lost,
        Reason::Damaged,
        Reason::DataChanged,
        Reason::Death,
        Reason::HolderRequest,
        Reason::BenefitEnded,
        Reason::TripLimit,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Lost => "lost",
            Reason::Damaged => "damaged",
            Reason::DataChanged => "data-changed",
            Reason::Death => "death",
            Reason::HolderRequest => "holder-request",
            Reason::BenefitEnded => "benefit-ended",
            Reason::TripLimit => "trip-limit",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn uk(self) -> &'static str {
        match self {
            Reason::Lost => "втрата",
            Reason::Damaged => "пошкодження",
            Reason::DataChanged => "зміна персональних даних",
            Reason::Death => "смерть утримувача",
            Reason::HolderRequest => "заява утримувача",
            Reason::BenefitEnded => "закінчення права на пільгу",
            Reason::TripLimit => "вичерпано ліміт поїздок",
        }
    }

    /// The holder may get a paid replacement (P8: loss, damage, a changed
    /// name; and a card they asked to stop).
    pub fn allows_reissue(self) -> bool {
        matches!(
            self,
            Reason::Lost | Reason::Damaged | Reason::DataChanged | Reason::HolderRequest
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A move in a card's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Into a print job; `reprint` sends a card again that was sent or
    /// printed (a misprint, a spoiled chip).
    Send {
        reprint: bool,
    },
    Printed,
    HandOver,
    Block(Reason),
    Expire,
}

/// Where `mv` takes a card in `state`, or why it may not.
pub fn apply(state: State, mv: Move) -> Result<State, String> {
    use State::*;
    match (state, mv) {
        (Blocked, _) => Err("it is blocked; a blocked card never comes back (reissue it)".into()),
        (Expired, _) => Err(
            "it has expired; an eligible holder gets a new card from `kartka cards issue`".into(),
        ),
        (Issued, Move::Send { .. }) => Ok(Sent),
        (Sent | Printed, Move::Send { reprint: true }) => Ok(Sent),
        (Sent | Printed, Move::Send { reprint: false }) => Err(format!(
            "it is already {}; give --reprint to print it again",
            state.uk_en()
        )),
        (Handed, Move::Send { .. }) => Err(
            "it is in the holder's hand; a damaged card is blocked (--reason damaged) and reissued"
                .into(),
        ),
        (Sent, Move::Printed) => Ok(Printed),
        (Issued, Move::Printed) => {
            Err("it has not been sent to print (run `kartka cards print-job`)".into())
        }
        (Printed | Handed, Move::Printed) => Err(format!("it is already {}", state.uk_en())),
        (Printed, Move::HandOver) => Ok(Handed),
        (Issued | Sent, Move::HandOver) => Err(format!(
            "it is {}, not yet printed; record `kartka cards printed` first",
            state.uk_en()
        )),
        (Handed, Move::HandOver) => Err("it was already handed over".into()),
        (_, Move::Block(_)) => Ok(Blocked),
        (_, Move::Expire) => Ok(Expired),
    }
}

impl State {
    fn uk_en(self) -> &'static str {
        match self {
            State::Issued => "issued",
            State::Sent => "sent to print",
            State::Printed => "printed",
            State::Handed => "handed over",
            State::Blocked => "blocked",
            State::Expired => "expired",
        }
    }
}

/// The old card, as a reissue sees it.
#[derive(Debug, Clone)]
pub struct OldCard {
    pub state: State,
    pub reason: Option<Reason>,
    /// The number of the card that already replaced it.
    pub replaced_by: Option<String>,
}

/// Whether a replacement may be made (P8), or why not.
pub fn may_reissue(
    old: &OldCard,
    receipt: &str,
    holder_live_card: Option<&str>,
    holder_eligible: bool,
) -> Result<(), String> {
    if old.state != State::Blocked {
        return Err(format!(
            "the card is {}, not blocked. Block it first (P8): `kartka cards block NUMBER --reason lost|damaged|data-changed`",
            old.state.uk_en()
        ));
    }
    let reason = old.reason.unwrap_or(Reason::HolderRequest);
    if !reason.allows_reissue() {
        return Err(format!(
            "the card was blocked for {reason}: that is not a case for a reissue (P8 allows loss, damage, a changed name or the holder's request)"
        ));
    }
    if let Some(by) = &old.replaced_by {
        return Err(format!("the card was already replaced by card {by}"));
    }
    if let Some(live) = holder_live_card {
        return Err(format!("the holder already has a live card, {live}"));
    }
    if !holder_eligible {
        return Err(
            "the holder is not eligible now (see `kartka eligibility explain`); no card can be made"
                .into(),
        );
    }
    if receipt.trim().is_empty() {
        return Err(
            "no fee receipt: a reissue is made only after the fee is paid (P8); give --receipt with the receipt's number"
                .into(),
        );
    }
    Ok(())
}

/// What `kartka cards issue` does for an eligible person, given their
/// latest card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueStep {
    /// Their first card: free.
    First,
    /// A new card after one that expired or ended with the benefit: free.
    Renewal,
    /// They hold a live card already.
    HasCard,
    /// Their card was blocked for a reason that needs a paid reissue.
    NeedsReissue(Reason),
}

pub fn issue_step(latest: Option<(State, Option<Reason>)>) -> IssueStep {
    match latest {
        None => IssueStep::First,
        Some((state, _)) if state.is_live() => IssueStep::HasCard,
        Some((State::Blocked, Some(r))) if r.allows_reissue() || r == Reason::TripLimit => {
            IssueStep::NeedsReissue(r)
        }
        Some(_) => IssueStep::Renewal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_goes_issue_send_print_hand() {
        let s = apply(State::Issued, Move::Send { reprint: false }).unwrap();
        let s = apply(s, Move::Printed).unwrap();
        let s = apply(s, Move::HandOver).unwrap();
        assert_eq!(s, State::Handed);
        assert_eq!(apply(s, Move::Block(Reason::Lost)).unwrap(), State::Blocked);
    }

    #[test]
    fn a_blocked_or_expired_card_never_moves_again() {
        for st in [State::Blocked, State::Expired] {
            for mv in [
                Move::Send { reprint: true },
                Move::Printed,
                Move::HandOver,
                Move::Block(Reason::Lost),
                Move::Expire,
            ] {
                assert!(apply(st, mv).is_err(), "{st:?} {mv:?}");
            }
        }
    }

    #[test]
    fn out_of_order_moves_are_refused_with_what_to_do() {
        let e = apply(State::Issued, Move::HandOver).unwrap_err();
        assert!(e.contains("not yet printed"), "{e}");
        let e = apply(State::Sent, Move::Send { reprint: false }).unwrap_err();
        assert!(e.contains("--reprint"), "{e}");
        assert_eq!(
            apply(State::Printed, Move::Send { reprint: true }).unwrap(),
            State::Sent
        );
        let e = apply(State::Handed, Move::Send { reprint: true }).unwrap_err();
        assert!(e.contains("reissued"), "{e}");
    }

    fn blocked(reason: Reason) -> OldCard {
        OldCard {
            state: State::Blocked,
            reason: Some(reason),
            replaced_by: None,
        }
    }

    #[test]
    fn a_reissue_needs_a_block_and_a_receipt() {
        let live = OldCard {
            state: State::Handed,
            reason: None,
            replaced_by: None,
        };
        let e = may_reissue(&live, "R-1", None, true).unwrap_err();
        assert!(e.contains("not blocked"), "{e}");
        let e = may_reissue(&blocked(Reason::Lost), " ", None, true).unwrap_err();
        assert!(e.contains("no fee receipt"), "{e}");
        assert!(may_reissue(&blocked(Reason::Lost), "R-1", None, true).is_ok());
        assert!(may_reissue(&blocked(Reason::DataChanged), "R-1", None, true).is_ok());
    }

    #[test]
    fn no_reissue_after_death_or_the_benefit_or_twice() {
        for r in [Reason::Death, Reason::BenefitEnded, Reason::TripLimit] {
            let e = may_reissue(&blocked(r), "R-1", None, true).unwrap_err();
            assert!(e.contains("not a case for a reissue"), "{r}: {e}");
        }
        let mut old = blocked(Reason::Lost);
        old.replaced_by = Some("1000000016".into());
        let e = may_reissue(&old, "R-1", None, true).unwrap_err();
        assert!(e.contains("already replaced by card 1000000016"), "{e}");
        let e = may_reissue(&blocked(Reason::Lost), "R-1", Some("1000000024"), true).unwrap_err();
        assert!(e.contains("already has a live card"), "{e}");
        let e = may_reissue(&blocked(Reason::Lost), "R-1", None, false).unwrap_err();
        assert!(e.contains("not eligible"), "{e}");
    }

    #[test]
    fn issue_gives_first_and_renewed_cards_but_never_dodges_the_fee() {
        assert_eq!(issue_step(None), IssueStep::First);
        assert_eq!(issue_step(Some((State::Sent, None))), IssueStep::HasCard);
        assert_eq!(issue_step(Some((State::Expired, None))), IssueStep::Renewal);
        assert_eq!(
            issue_step(Some((State::Blocked, Some(Reason::BenefitEnded)))),
            IssueStep::Renewal
        );
        assert_eq!(
            issue_step(Some((State::Blocked, Some(Reason::Lost)))),
            IssueStep::NeedsReissue(Reason::Lost)
        );
        assert_eq!(
            issue_step(Some((State::Blocked, Some(Reason::TripLimit)))),
            IssueStep::NeedsReissue(Reason::TripLimit)
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), Some(s));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
    }
}

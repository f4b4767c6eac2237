//! The card holders and their honest riding: skewed use (a few ride daily,
//! most now and then), each on a home route and a second one, within the
//! rules an honest rider keeps.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{Calendar, minute_of_day, peak_minute};
use super::fleet::Fleet;
use super::{Draft, GenCard, MonthOptions, uid_hex, uid_of};
use crate::cards::number::CardNumber;

/// The share of honest taps made boarding in a queue: 10–25 passengers
/// at a busy stop in a peak, one after another at the front door's
/// validator.
const QUEUE_SHARE: f64 = 0.2;

pub(super) struct Riders<'a> {
    opts: &'a MonthOptions,
    /// The holders' card numbers.
    pub cards: Vec<u32>,
    /// Cumulative riding weights, one per holder.
    cumulative: Vec<f64>,
    categories: Vec<String>,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
}

/// The card number of the `i`-th card made.
pub(super) fn serial(i: u32) -> u32 {
    CardNumber::from_serial(100_000_000 + i)
        .expect("in range")
        .value()
}

impl<'a> Riders<'a> {
    /// The weights are capped so the busiest holder rides about three
    /// times a day, as a real one might.
    pub fn draw(opts: &'a MonthOptions, rng: &mut ChaCha8Rng) -> Self {
        let cards: Vec<u32> = (0..opts.holders.max(1)).map(serial).collect();
        let mut cumulative = Vec::with_capacity(cards.len());
        let mut total = 0f64;
        for _ in 0..cards.len() {
            let u: f64 = rng.random_range(0.0001..1.0);
            total += u.powf(-0.7).min(8.0); // Pareto-like weights
            cumulative.push(total);
        }
        let categories = if opts.city.categories.is_empty() {
            vec!["pensioner-age".into()]
        } else {
            opts.city.categories.clone()
        };
        Riders {
            opts,
            cards,
            cumulative,
            categories,
            valid_from: opts
                .month
                .with_year(opts.month.year() - 1)
                .unwrap_or(opts.month),
            valid_to: opts
                .month
                .with_year(opts.month.year() + 4)
                .unwrap_or(opts.month),
        }
    }

    /// A holder drawn by weight.
    fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random_range(0.0..total);
        self.cumulative
            .partition_point(|&c| c < x)
            .min(self.cards.len() - 1)
    }

    /// The holder's home route, or their second one.
    pub fn home_route(&self, holder: usize, second: bool) -> u16 {
        let h = (holder as u32).wrapping_mul(2_654_435_761) >> 7;
        1 + ((h + u32::from(second) * 7) % u32::from(self.opts.routes)) as u16
    }

    /// The holder's monthly trip limit (`u32::MAX` for none).
    pub fn limit_of(&self, holder: u32) -> u32 {
        match &self.opts.city.trip_limit {
            Some((cat, n))
                if cat == "*"
                    || *cat == self.categories[holder as usize % self.categories.len()] =>
            {
                *n
            }
            _ => u32::MAX,
        }
    }

    /// The registry's card `i` (a holder's, or one made for a plant):
    /// valid from a year before the month to four years after, in its
    /// community and category.
    pub fn card(&self, i: u32) -> GenCard {
        let number = serial(i);
        GenCard {
            number,
            uid: uid_hex(uid_of(number, 0)),
            community: community_of(i as usize, &self.opts.city.communities).to_string(),
            category: self.categories[i as usize % self.categories.len()].clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            blocked_at: None,
            death: None,
        }
    }

    /// Every holder's card.
    pub fn registry(&self) -> Vec<GenCard> {
        (0..self.cards.len() as u32).map(|i| self.card(i)).collect()
    }

    /// `n` honest taps, sorted by card and time: a fifth in queues at busy
    /// stops in the peaks, the rest drawn one by one, then made plausible
    /// (a card taps at least 25 minutes after its previous tap, at most 4
    /// times a Kyiv day and within its trip limit); what breaks that is
    /// drawn again, up to eight rounds.
    pub fn ride(
        &self,
        n: usize,
        cal: &Calendar,
        fleet: &Fleet,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Draft> {
        let mut drafts: Vec<Draft> = Vec::with_capacity(self.opts.taps + 64);
        for _round in 0..8 {
            let missing = n.saturating_sub(drafts.len());
            if missing == 0 {
                break;
            }
            let mut made = 0;
            while (made as f64) < missing as f64 * QUEUE_SHARE {
                made += self.queue(cal, fleet, rng, &mut drafts);
            }
            for _ in made..missing {
                let holder = self.pick(rng);
                let route = self.home_route(holder, rng.random_bool(0.3));
                let vehicle = fleet.vehicle_on(rng, route);
                let day = cal.pick_day(rng);
                let time = cal.at(day, minute_of_day(rng) * 60 + rng.random_range(0..60));
                let door = rng.random_range(0..fleet.vehicles[vehicle].doors);
                let card = self.cards[holder];
                drafts.push(Draft::honest(
                    time,
                    card,
                    holder as u32,
                    vehicle,
                    door,
                    route,
                ));
            }
            drafts.sort_unstable_by_key(|d| (d.card, d.time));
            self.keep_plausible(&mut drafts, cal);
        }
        drafts
    }

    /// A queue boarding one vehicle at a stop in a peak: 10–25 holders
    /// drawn by weight, at the front door, each 1 s plus an exponential
    /// wait (mean 2 s) after the one before, in whole seconds: as irregular
    /// as people are. Returns how many taps it made.
    fn queue(
        &self,
        cal: &Calendar,
        fleet: &Fleet,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Draft>,
    ) -> usize {
        let route = 1 + rng.random_range(0..self.opts.routes);
        let vehicle = fleet.vehicle_on(rng, route);
        let day = cal.pick_day(rng);
        let mut time = cal.at(day, peak_minute(rng) * 60 + rng.random_range(0..60));
        let n = rng.random_range(10..=25);
        for _ in 0..n {
            let holder = self.pick(rng);
            out.push(Draft::honest(
                time,
                self.cards[holder],
                holder as u32,
                vehicle,
                0,
                route,
            ));
            let wait: f64 = rng.random_range(f64::EPSILON..1.0);
            time += 1 + (-2.0 * wait.ln()) as u32;
        }
        n
    }

    /// Drops the taps (sorted by card and time) an honest rider would not
    /// make.
    fn keep_plausible(&self, drafts: &mut Vec<Draft>, cal: &Calendar) {
        let mut keep = vec![true; drafts.len()];
        let (mut last_card, mut last_t, mut day, mut day_n, mut month_n) = (u32::MAX, 0, 0, 0, 0);
        for (i, d) in drafts.iter().enumerate() {
            if d.card != last_card {
                (last_card, last_t, day, day_n, month_n) = (d.card, 0, usize::MAX, 0, 0);
            }
            let dd = cal.day_of(d.time);
            if dd != day {
                (day, day_n) = (dd, 0);
            }
            let ok = (month_n == 0 || d.time >= last_t + 25 * 60)
                && day_n < 4
                && month_n < self.limit_of(d.holder);
            if ok {
                (last_t, day_n, month_n) = (d.time, day_n + 1, month_n + 1);
            } else {
                keep[i] = false;
            }
        }
        let mut k = keep.iter();
        drafts.retain(|_| *k.next().expect("one flag per draft"));
    }
}

/// Three holders in four live in the city; the rest in the partner
/// communities, in turn.
fn community_of(i: usize, communities: &[String]) -> &str {
    match communities {
        [] => "",
        [city] => city,
        [city, partners @ ..] => {
            if i % 4 != 3 {
                city
            } else {
                &partners[(i / 4) % partners.len()]
            }
        }
    }
}

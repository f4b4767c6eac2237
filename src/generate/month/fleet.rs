//! The generated fleet: routes shared out among carriers, vehicles among
//! routes, one or two door validators a vehicle, and the tariff zones.

use std::io::Write;
use std::path::Path;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Draft, MonthOptions, write};
use crate::generate::Error;

#[derive(Clone, Copy)]
pub(super) struct Vehicle {
    pub id: u16,
    pub carrier: u16,
    pub route: u16,
    pub validators: [u16; 2],
    pub doors: usize,
    /// The tariff zone: the last route (of three or more) runs out to the
    /// suburbs, zone 2; the rest are zone 1.
    pub zone: u8,
}

pub(super) struct Fleet {
    pub vehicles: Vec<Vehicle>,
    /// The vehicles of each route (route 1 first).
    by_route: Vec<Vec<usize>>,
}

impl Fleet {
    /// `validators - vehicles` vehicles have a second door validator.
    pub fn plan(opts: &MonthOptions) -> Self {
        let mut next_validator = 1u16;
        let doubles = opts.validators.saturating_sub(opts.vehicles) as usize;
        let vehicles: Vec<Vehicle> = (0..opts.vehicles as usize)
            .map(|i| {
                let route = 1 + (i as u16 % opts.routes);
                let carrier = 1 + ((route - 1) % opts.carriers);
                let doors = if i < doubles { 2 } else { 1 };
                let v = [next_validator, next_validator + 1];
                next_validator += doors as u16;
                Vehicle {
                    id: 1001 + i as u16,
                    carrier,
                    route,
                    validators: v,
                    doors,
                    zone: if opts.routes >= 3 && route == opts.routes {
                        2
                    } else {
                        1
                    },
                }
            })
            .collect();
        let by_route = (1..=opts.routes)
            .map(|r| {
                (0..vehicles.len())
                    .filter(|&i| vehicles[i].route == r)
                    .collect()
            })
            .collect();
        Fleet { vehicles, by_route }
    }

    /// A vehicle of `route`, drawn at random.
    pub fn vehicle_on(&self, rng: &mut ChaCha8Rng, route: u16) -> usize {
        let list = &self.by_route[(route - 1) as usize];
        list[rng.random_range(0..list.len())]
    }

    /// The validator a tap was made on.
    pub fn validator_of(&self, d: &Draft) -> u16 {
        let v = &self.vehicles[d.vehicle];
        v.validators[d.door.min(v.doors - 1)]
    }

    /// The highest validator number.
    pub fn max_validator(&self) -> u16 {
        self.vehicles
            .iter()
            .map(|v| v.validators[1])
            .max()
            .unwrap_or(1)
    }

    pub fn validators(&self) -> usize {
        self.vehicles.iter().map(|v| v.doors).sum()
    }

    /// `fleet.csv`, for `kartka fleet import`.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let mut f = write::file(path)?;
        let mut out =
            String::from("validator,vehicle,plate,carrier,carrier_name,edrpou,routes,zone\n");
        for v in &self.vehicles {
            for door in 0..v.doors {
                out.push_str(&format!(
                    "{},{},АЕ{:04}ВС,{},Перевізник {},{:08},{},{}\n",
                    v.validators[door],
                    v.id,
                    v.id,
                    v.carrier,
                    v.carrier,
                    30_000_000 + u32::from(v.carrier),
                    v.route,
                    v.zone
                ));
            }
        }
        f.write_all(out.as_bytes())
            .and_then(|()| f.commit())
            .map_err(write::io(path))
    }
}

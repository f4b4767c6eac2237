//! The validator's calendar: local days and months from UTC seconds and
//! the offset the host sends (no time-zone tables on the bus), for the
//! validity dates, the monthly trip limit (P9) and the screen (P16).

/// The local date of `utc` (seconds), as days since 1970-01-01.
pub fn local_day(utc: u32, utc_offset_min: i16) -> u16 {
    ((i64::from(utc) + i64::from(utc_offset_min) * 60).div_euclid(86_400)) as u16
}

/// The local time of day of `utc`, in minutes.
pub fn local_minute(utc: u32, utc_offset_min: i16) -> u16 {
    ((i64::from(utc) + i64::from(utc_offset_min) * 60).rem_euclid(86_400) / 60) as u16
}

/// (year, month 1–12, day 1–31) of a day since 1970-01-01 (H. Hinnant's
/// days-to-civil, in integers).
pub fn date(day: u16) -> (u16, u8, u8) {
    let z = i32::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y as u16, m as u8, d as u8)
}

/// The month of a day, as one number (year × 12 + month − 1).
pub fn month_of_day(day: u16) -> u32 {
    let (y, m, _) = date(day);
    u32::from(y) * 12 + u32::from(m) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(date(0), (1970, 1, 1));
        assert_eq!(date(20_454), (2026, 1, 1));
        assert_eq!(date(20_513), (2026, 3, 1));
        assert_eq!(date(20_512), (2026, 2, 28));
        assert_eq!(date(19_782), (2024, 2, 29));
        assert_eq!(date(u16::MAX), (2149, 6, 6));
    }

    #[test]
    fn a_local_day_follows_the_offset_across_midnight() {
        // 2026-10-31T22:30:00Z is 00:30 on 1 November in Kyiv (UTC+2).
        let t = 1_793_485_800;
        assert_eq!(date(local_day(t, 0)), (2026, 10, 31));
        assert_eq!(date(local_day(t, 120)), (2026, 11, 1));
        assert_eq!(local_minute(t, 120), 30);
        assert_ne!(
            month_of_day(local_day(t, 0)),
            month_of_day(local_day(t, 120))
        );
    }
}

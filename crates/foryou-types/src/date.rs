//! Calendar dates (birthdates) and ages, without a date library.

use serde::{Deserialize, Serialize};

/// A proleptic Gregorian date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct Date {
    /// Year, e.g. 2001.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date {
            year: (y + i64::from(m <= 2)) as i32,
            month: m,
            day: d,
        }
    }

    /// The date of a Unix time in milliseconds (UTC).
    pub fn from_unix_ms(ms: u64) -> Date {
        Date::from_days((ms / 86_400_000) as i64)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses `YYYY-MM-DD`, checking that the day exists.
pub fn parse_date(s: &str) -> Result<Date, crate::Invalid> {
    let bad = || {
        crate::Invalid::new(
            "birthdate",
            format!("'{s}' is not a date: send YYYY-MM-DD, e.g. \"2004-05-17\""),
        )
    };
    let b = s.as_bytes();
    let digits_at = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits_at(0..4)
        || !digits_at(5..7)
        || !digits_at(8..10)
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let (y, m, d) = match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => (y as i32, m, d),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(bad());
    }
    Ok(Date {
        year: y,
        month: m,
        day: d,
    })
}

/// Whole years between `birth` and `today` (negative when born in the future).
pub fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = today.year - birth.year;
    if (today.month, today.day) < (birth.month, birth.day) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_parse_and_reject() {
        assert!(parse_date("2004-02-29").is_ok());
        assert!(parse_date("2003-02-29").is_err());
        assert!(parse_date("2004-13-01").is_err());
        assert!(parse_date("04-01-01").is_err());
        assert!(parse_date("2004/01/01").is_err());
    }

    #[test]
    fn ages_count_whole_years() {
        let b = Date {
            year: 2010,
            month: 6,
            day: 15,
        };
        assert_eq!(
            age_on(
                b,
                Date {
                    year: 2026,
                    month: 6,
                    day: 14
                }
            ),
            15
        );
        assert_eq!(
            age_on(
                b,
                Date {
                    year: 2026,
                    month: 6,
                    day: 15
                }
            ),
            16
        );
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -800_000i64..800_000) {
            let d = Date::from_days(days);
            prop_assert_eq!(d.days_since_epoch(), days);
            prop_assert!(parse_date(&d.to_string()).is_ok() || d.year < 0 || d.year > 9999);
        }
    }
}

//! HTTP dates (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) for
//! `Expires`, written straight into bytes.
//!
//! `httpdate` formats the same text through `fmt::Display`; this does the
//! calendar arithmetic once and writes fixed positions, about five times faster
//! on the `Set-Cookie` hot path. The tests check it against `httpdate`.

/// Length of an IMF-fixdate.
pub(crate) const HTTP_DATE_LEN: usize = 29;

/// Seconds from 1970 to 9999-12-31 23:59:59, the last instant an HTTP date can name.
pub(crate) const LAST_HTTP_DATE: u64 = 253_402_300_799;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// "00" to "99", two characters each.
const PAIRS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Appends the HTTP date `secs` seconds after 1970-01-01 00:00:00 UTC; `secs`
/// is capped at [`LAST_HTTP_DATE`] (later times would need a fifth year digit).
pub(crate) fn push(out: &mut String, secs: u64) {
    let secs = secs.min(LAST_HTTP_DATE);
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);

    out.reserve(HTTP_DATE_LEN);
    // 1970-01-01 was a Thursday.
    out.push_str(WEEKDAYS[(days % 7) as usize]);
    out.push_str(", ");
    push_pair(out, day);
    out.push(' ');
    out.push_str(MONTHS[(month - 1) as usize]);
    out.push(' ');
    push_pair(out, year / 100);
    push_pair(out, year % 100);
    out.push(' ');
    push_pair(out, in_day / 3600);
    out.push(':');
    push_pair(out, in_day / 60 % 60);
    out.push(':');
    push_pair(out, in_day % 60);
    out.push_str(" GMT");
}

/// Appends `n` (below 100) as two digits.
fn push_pair(out: &mut String, n: u64) {
    let at = (n % 100) as usize * 2;
    out.push_str(PAIRS.get(at..at + 2).unwrap_or("00"));
}

/// Year, month (1-12) and day (1-31) of the `days`-th day after 1970-01-01, by
/// Howard Hinnant's `civil_from_days` (proleptic Gregorian calendar, eras of
/// 400 years starting on March 1st so that leap days fall at the end).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn reference(secs: u64) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
    }

    fn ours(secs: u64) -> String {
        let mut out = String::new();
        push(&mut out, secs);
        assert_eq!(out.len(), HTTP_DATE_LEN);
        out
    }

    #[test]
    fn known_dates() {
        assert_eq!(ours(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(ours(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(ours(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(ours(LAST_HTTP_DATE), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn every_day_boundary_for_centuries_matches_httpdate() {
        // Each day's first and last second from 1970 to 2500: every month end,
        // leap day and century rule (2100, 2200, 2300 are not leap years, 2400 is).
        let days_to_2500 = 194_359;
        for day in 0..days_to_2500 {
            for secs in [day * 86_400, day * 86_400 + 86_399] {
                assert_eq!(ours(secs), reference(secs), "{secs}");
            }
        }
    }

    #[test]
    fn last_days_of_year_9999_match_httpdate() {
        for secs in (LAST_HTTP_DATE - 40 * 86_400..=LAST_HTTP_DATE).step_by(3_607) {
            assert_eq!(ours(secs), reference(secs), "{secs}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_time_matches_httpdate(secs in 0..=LAST_HTTP_DATE) {
            proptest::prop_assert_eq!(ours(secs), reference(secs));
        }

        #[test]
        fn times_near_now_match_httpdate(secs in 1_600_000_000u64..2_100_000_000) {
            proptest::prop_assert_eq!(ours(secs), reference(secs));
        }
    }
}

//! Scheduled report e-mails (issue 16): which period a schedule is due to mail at a moment, in
//! the organization's zone, and how the sales summary reads. The server computes the figures
//! from PostgreSQL and queues the mail; the rules live here so they are tested without it.

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use crate::money::{Currency, Money};
use crate::reports::decimal;

/// What a schedule mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// Yesterday's sales, mailed each day from the send hour.
    DailySales,
    /// Last week's (Monday to Sunday) sales, mailed from Monday's send hour.
    WeeklySales,
}

impl ScheduleKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "daily_sales" => Some(Self::DailySales),
            "weekly_sales" => Some(Self::WeeklySales),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DailySales => "daily_sales",
            Self::WeeklySales => "weekly_sales",
        }
    }
}

/// A period of whole local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// The period a schedule should have mailed by `now`, or `None` before its first send moment.
///
/// A daily report of yesterday is due from `send_hour` (local) until midnight; a weekly report
/// of last week is due from Monday's `send_hour` for the rest of the week, so a server that was
/// down on Monday still sends it. The caller mails a period once (`last_sent_for` = `first`).
pub fn due_period(kind: ScheduleKind, send_hour: u32, tz: Tz, now: DateTime<Utc>) -> Option<Period> {
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let past_hour = local.hour() >= send_hour;
    match kind {
        ScheduleKind::DailySales => {
            let day = today.checked_sub_days(Days::new(1))?;
            past_hour.then_some(Period { first: day, last: day })
        }
        ScheduleKind::WeeklySales => {
            let monday = today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
            if today == monday && !past_hour {
                return None;
            }
            Some(Period { first: monday.checked_sub_days(Days::new(7))?, last: monday.checked_sub_days(Days::new(1))? })
        }
    }
}

/// One currency's figures of a period, all money in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SalesLine {
    pub currency: String,
    /// Bookings made in the period (not pending holds, not cancelled unpaid ones).
    pub bookings: i64,
    pub seats: i64,
    /// Those bookings' subtotal less their discounts.
    pub revenue_minor: i64,
    /// Refunds paid out in the period (whatever day the booking was made).
    pub refunds_minor: i64,
    /// Bookings cancelled in the period.
    pub cancellations: i64,
}

fn amount(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => format!("{} {currency}", decimal(&Money::new(minor, c))),
        Err(_) => format!("{minor} (minor units) {currency}"),
    }
}

/// Subject and plain-text body of a sales summary.
pub fn render_sales(
    org_name: &str,
    kind: ScheduleKind,
    period: Period,
    zone: &str,
    lines: &[SalesLine],
) -> (String, String) {
    let when = if period.first == period.last {
        period.first.format("%A %-d %B %Y").to_string()
    } else {
        format!("{} – {}", period.first.format("%-d %B"), period.last.format("%-d %B %Y"))
    };
    let title = match kind {
        ScheduleKind::DailySales => "Daily sales summary",
        ScheduleKind::WeeklySales => "Weekly sales summary",
    };
    let subject = format!("{title}: {org_name}, {when}");
    let mut text = format!("{title} for {org_name}\nPeriod: {when} ({zone})\n\n");
    if lines.is_empty() {
        text.push_str("No bookings, refunds or cancellations in this period.\n");
    }
    for l in lines {
        text.push_str(&format!(
            "{cur}\n  Bookings made: {b}\n  Seats: {s}\n  Revenue: {r}\n  Refunds: {f}\n  Cancellations: {c}\n\n",
            cur = l.currency,
            b = l.bookings,
            s = l.seats,
            r = amount(l.revenue_minor, &l.currency),
            f = amount(l.refunds_minor, &l.currency),
            c = l.cancellations,
        ));
    }
    text.push_str("\nSent by Tourdesk because you are on this report's schedule.\n");
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid")
    }
    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid")
    }

    #[test]
    fn daily_is_due_from_the_local_send_hour() {
        let tz: Tz = "Pacific/Auckland".parse().expect("zone");
        // 2026-12-03 18:00 UTC is 07:00 on the 4th in Auckland (NZDT, +13).
        assert_eq!(due_period(ScheduleKind::DailySales, 8, tz, at(2026, 12, 3, 18)), None);
        let p = due_period(ScheduleKind::DailySales, 7, tz, at(2026, 12, 3, 18)).expect("due");
        assert_eq!(p, Period { first: day(2026, 12, 3), last: day(2026, 12, 3) });
        // In UTC the same instant is still the 3rd: yesterday is the 2nd.
        let p = due_period(ScheduleKind::DailySales, 7, chrono_tz::UTC, at(2026, 12, 3, 18)).expect("due");
        assert_eq!(p.first, day(2026, 12, 2));
    }

    #[test]
    fn weekly_is_last_monday_to_sunday_from_mondays_send_hour() {
        let tz = chrono_tz::Europe::Berlin;
        // Monday 2026-11-30 06:00 UTC = 07:00 Berlin.
        assert_eq!(due_period(ScheduleKind::WeeklySales, 8, tz, at(2026, 11, 30, 6)), None);
        let want = Period { first: day(2026, 11, 23), last: day(2026, 11, 29) };
        assert_eq!(due_period(ScheduleKind::WeeklySales, 7, tz, at(2026, 11, 30, 6)), Some(want));
        // Still due (the same period) later in the week.
        assert_eq!(due_period(ScheduleKind::WeeklySales, 23, tz, at(2026, 12, 3, 1)), Some(want));
    }

    #[test]
    fn summary_reads_money_in_the_currency_exponent() {
        let lines = [SalesLine {
            currency: "EUR".into(),
            bookings: 2,
            seats: 5,
            revenue_minor: 12_550,
            refunds_minor: 1_000,
            cancellations: 1,
        }];
        let p = Period { first: day(2026, 12, 3), last: day(2026, 12, 3) };
        let (subject, text) = render_sales("Demo", ScheduleKind::DailySales, p, "Europe/Berlin", &lines);
        assert_eq!(subject, "Daily sales summary: Demo, Thursday 3 December 2026");
        assert!(text.contains("Revenue: 125.50 EUR"), "{text}");
        assert!(text.contains("Refunds: 10.00 EUR"), "{text}");
        assert!(text.contains("Seats: 5"), "{text}");
    }
}

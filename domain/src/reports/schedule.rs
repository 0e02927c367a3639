//! Scheduled report e-mails (issue 16): which period a schedule is due to mail at a moment, in
//! the organization's zone, and how the sales summary reads. The server computes the figures
//! from PostgreSQL and queues the mail; the rules live here so they are tested without it.

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::reports::decimal;
use crate::roles::Role;
use crate::validate::FieldError;

/// What a schedule mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// Yesterday's sales, mailed each day from the send hour.
    DailySales,
    /// Last week's (Monday to Sunday) sales, mailed from Monday's send hour.
    WeeklySales,
}

impl ScheduleKind {
    pub const ALL: [ScheduleKind; 2] = [ScheduleKind::DailySales, ScheduleKind::WeeklySales];

    /// The report's name, as the e-mail's subject and the desk's list say it.
    pub fn title(self) -> &'static str {
        match self {
            Self::DailySales => "Daily sales summary",
            Self::WeeklySales => "Weekly sales summary",
        }
    }

    /// When it is sent, in words.
    pub fn cadence(self) -> &'static str {
        match self {
            Self::DailySales => "every day, for the day before",
            Self::WeeklySales => "every Monday, for the week before",
        }
    }

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

/// A schedule as the server keeps it (`GET /api/v1/report-schedules`, V44 `report_schedules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSchedule {
    pub id: String,
    /// A [`ScheduleKind`] as text (`daily_sales`).
    pub kind: String,
    pub recipient_user_ids: Vec<String>,
    pub recipient_roles: Vec<String>,
    /// The hour of the organization's local day from which it is sent, 0–23.
    pub send_hour: i16,
    /// The first day of the last period mailed.
    pub last_sent_for: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A schedule to create or the new state of one (`POST`, `PUT /api/v1/report-schedules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub kind: String,
    /// Staff members by id.
    #[serde(default)]
    pub recipient_user_ids: Vec<String>,
    /// Everyone active in these staff roles when it is sent.
    #[serde(default)]
    pub recipient_roles: Vec<String>,
    /// The hour of the organization's local day from which it is sent, 0–23.
    pub send_hour: i64,
}

/// A [`ScheduleInput`] that passed [`ScheduleInput::check`]: recipients trimmed, sorted and once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSchedule {
    pub kind: ScheduleKind,
    pub send_hour: i16,
    pub recipient_user_ids: Vec<String>,
    pub recipient_roles: Vec<String>,
}

/// The most staff members one schedule names.
pub const MAX_RECIPIENTS: usize = 200;

impl ScheduleInput {
    /// The schedule as stored, or the first field that is wrong: a known report, an hour of the
    /// day, staff roles (not the customer role), and at least one recipient. Whether the ids are
    /// active staff of the organization is the server's to check.
    pub fn check(&self) -> Result<CheckedSchedule, FieldError> {
        let kind = ScheduleKind::parse(self.kind.trim())
            .ok_or_else(|| FieldError::new("kind", "one of daily_sales, weekly_sales"))?;
        let send_hour = i16::try_from(self.send_hour)
            .ok()
            .filter(|h| (0..=23).contains(h))
            .ok_or_else(|| FieldError::new("send_hour", "an hour of the day, 0 to 23"))?;
        let mut roles = Vec::new();
        for r in &self.recipient_roles {
            match Role::parse(r.trim()) {
                Some(role) if role != Role::Customer => roles.push(role.as_str().to_string()),
                _ => return Err(FieldError::new("recipient_roles", format!("{r:?} is not a staff role"))),
            }
        }
        roles.sort();
        roles.dedup();
        let mut users: Vec<String> = self.recipient_user_ids.iter().map(|u| u.trim().to_string()).collect();
        users.sort();
        users.dedup();
        if users.len() > MAX_RECIPIENTS || users.iter().any(|u| u.is_empty() || u.len() > 200) {
            return Err(FieldError::new("recipient_user_ids", "staff user ids, at most 200"));
        }
        if users.is_empty() && roles.is_empty() {
            return Err(FieldError::new("recipient_user_ids", "choose at least one recipient or role"));
        }
        Ok(CheckedSchedule { kind, send_hour, recipient_user_ids: users, recipient_roles: roles })
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
    let title = kind.title();
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
    fn a_schedule_is_checked_field_by_field_and_its_recipients_kept_once() {
        let input = |kind: &str, hour: i64, users: &[&str], roles: &[&str]| ScheduleInput {
            kind: kind.into(),
            recipient_user_ids: users.iter().map(|s| s.to_string()).collect(),
            recipient_roles: roles.iter().map(|s| s.to_string()).collect(),
            send_hour: hour,
        };
        let ok = input(" weekly_sales ", 7, &["u2", " u1", "u2"], &["owner", "admin", "owner"]).check().expect("ok");
        assert_eq!(
            ok,
            CheckedSchedule {
                kind: ScheduleKind::WeeklySales,
                send_hour: 7,
                recipient_user_ids: vec!["u1".into(), "u2".into()],
                recipient_roles: vec!["admin".into(), "owner".into()],
            }
        );
        let field = |i: ScheduleInput| i.check().expect_err("refused").field;
        assert_eq!(field(input("monthly", 7, &["u1"], &[])), "kind");
        assert_eq!(field(input("daily_sales", 24, &["u1"], &[])), "send_hour");
        assert_eq!(field(input("daily_sales", -1, &["u1"], &[])), "send_hour");
        assert_eq!(field(input("daily_sales", 7, &[], &["customer"])), "recipient_roles");
        assert_eq!(field(input("daily_sales", 7, &[], &[])), "recipient_user_ids");
        assert_eq!(field(input("daily_sales", 7, &[" "], &[])), "recipient_user_ids");
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

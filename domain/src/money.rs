//! Money: integer minor units with their ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code, validated against the currencies Tourdesk supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// (code, minor-unit exponent). The exponent is the real one from ISO 4217, so a JPY amount
/// of 1500 is ¥1,500 and a KWD amount of 1500 is 1.500 KWD.
const CURRENCIES: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("ISK", 0),
    ("INR", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?} (expected an ISO 4217 code such as USD, EUR, JPY)")]
    UnknownCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflow")]
    Overflow,
    #[error("{0:?} is not an amount in {1} (use up to {2} decimal places)")]
    InvalidAmount(String, Currency, u8),
    #[error("{0:?} is not a percentage (expected e.g. 20, 12.5 or -10)")]
    InvalidPercent(String),
}

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");
    pub const KWD: Currency = Currency(*b"KWD");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(c, _)| {
                let b = c.as_bytes();
                Currency([b[0], b[1], b[2]])
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        // Only constructed from the ASCII table above.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of digits after the decimal point (USD 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        CURRENCIES.iter().find(|(c, _)| c.as_bytes() == self.0).map(|(_, e)| *e).unwrap_or(2)
    }

    /// The symbol customers recognise, for the currencies where it is unambiguous on its own.
    /// Dollar-like currencies other than USD keep their code so "$" never means two things.
    pub fn symbol(&self) -> Option<&'static str> {
        match &self.0 {
            b"USD" => Some("$"),
            b"EUR" => Some("€"),
            b"GBP" => Some("£"),
            b"JPY" => Some("¥"),
            b"INR" => Some("₹"),
            b"KRW" => Some("₩"),
            b"THB" => Some("฿"),
            b"VND" => Some("₫"),
            _ => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

/// An amount in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(0, currency)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        self.amount.checked_add(other.amount).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    /// Display form, e.g. `USD 12.50`, `JPY 1500`, `KWD 1.500`.
    pub fn display(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        if exp == 0 {
            return format!("{} {}", self.currency, self.amount);
        }
        let div = 10i64.pow(exp);
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let div = div.unsigned_abs();
        format!("{} {sign}{}.{:0width$}", self.currency, abs / div, abs % div, width = exp as usize)
    }
}

/// How a fractional minor unit is resolved when a percentage is applied.
///
/// Tourdesk prices with [`Rounding::HalfUp`] (half away from zero): it is what customers and most
/// tax authorities expect from a receipt. It is applied once per computed amount — each
/// seasonal unit price, each discount, each tax line — and the results are then summed exactly,
/// so the lines of a snapshot always add up to its totals. `HalfEven` exists for callers that
/// must reproduce a bank's or a payment processor's arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    HalfUp,
    HalfEven,
}

/// The rounding rule of the pricing engine, cancellation refunds and every other amount the
/// domain derives from a percentage.
pub const PRICING_ROUNDING: Rounding = Rounding::HalfUp;

/// `n / d` rounded to an integer; `d` must be positive.
fn div_round(n: i128, d: i128, mode: Rounding) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => match mode {
            // q is the floor, so for a negative n it is already the value away from zero.
            Rounding::HalfUp => {
                if n >= 0 {
                    q + 1
                } else {
                    q
                }
            }
            Rounding::HalfEven => {
                if q % 2 == 0 {
                    q
                } else {
                    q + 1
                }
            }
        },
    }
}

/// A percentage with two decimals, stored as basis points (2000 = 20.00 %), because the spec
/// stores rates as `DECIMAL(10,2)` and floats would not round-trip. Serialises as the integer
/// number of basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(i64);

impl Percent {
    pub const ZERO: Percent = Percent(0);
    pub const HUNDRED: Percent = Percent(10_000);

    pub const fn from_basis_points(bp: i64) -> Self {
        Percent(bp)
    }

    /// Whole percent: `Percent::whole(20)` is 20 %.
    pub const fn whole(p: i64) -> Self {
        Percent(p * 100)
    }

    pub const fn basis_points(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses `"20"`, `"12.5"`, `"-10.25"` (at most two decimals, as the database stores them).
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        parse_scaled(s, 2).map(Percent).ok_or_else(|| MoneyError::InvalidPercent(s.to_string()))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, frac) = (abs / 100, abs % 100);
        if frac == 0 {
            write!(f, "{sign}{whole}%")
        } else if frac % 10 == 0 {
            write!(f, "{sign}{whole}.{}%", frac / 10)
        } else {
            write!(f, "{sign}{whole}.{frac:02}%")
        }
    }
}

/// Parses a plain decimal (`-12.5`) into an integer scaled by `10^decimals`, refusing more
/// decimals than that rather than silently rounding what a person typed.
fn parse_scaled(s: &str, decimals: u8) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty())
        || !all_digits(whole)
        || !all_digits(frac)
        || frac.len() > usize::from(decimals)
    {
        return None;
    }
    let scale = 10i64.checked_pow(u32::from(decimals))?;
    let whole_v: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut frac_v: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..usize::from(decimals) {
        frac_v *= 10;
    }
    let v = whole_v.checked_mul(scale)?.checked_add(frac_v)?;
    Some(if neg { -v } else { v })
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Money {
    /// Parses what a person typed in major units (`"12.5"` USD → 1250 minor units). More
    /// decimals than the currency has is an error, never a silent rounding.
    pub fn from_decimal_str(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let exp = currency.exponent();
        parse_scaled(s, exp)
            .map(|a| Money::new(a, currency))
            .ok_or_else(|| MoneyError::InvalidAmount(s.to_string(), currency, exp))
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }

    pub fn is_negative(&self) -> bool {
        self.amount < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        self.amount.checked_sub(other.amount).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    /// Unit price × quantity.
    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyError> {
        self.amount.checked_mul(i64::from(quantity)).map(|a| Money::new(a, self.currency)).ok_or(MoneyError::Overflow)
    }

    /// The smaller of two amounts of the same currency.
    pub fn checked_min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        Ok(if other.amount < self.amount { other } else { self })
    }

    /// Negative amounts become zero.
    pub fn non_negative(self) -> Money {
        Money::new(self.amount.max(0), self.currency)
    }

    /// `rate` of this amount, rounded to the currency's minor unit with `rounding`.
    pub fn percent(self, rate: Percent, rounding: Rounding) -> Result<Money, MoneyError> {
        self.ratio(i128::from(rate.basis_points()), 10_000, rounding)
    }

    /// `self × numerator / denominator`, rounded once; `denominator` must be positive.
    /// Used where a rate is applied to a base that itself contains the rate (inclusive taxes).
    pub fn ratio(self, numerator: i128, denominator: i128, rounding: Rounding) -> Result<Money, MoneyError> {
        if denominator <= 0 {
            return Err(MoneyError::Overflow);
        }
        let v = div_round(i128::from(self.amount) * numerator, denominator, rounding);
        i64::try_from(v).map(|a| Money::new(a, self.currency)).map_err(|_| MoneyError::Overflow)
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), |acc, m| acc.checked_add(*m))
    }

    /// Customer-facing form with the currency symbol where it is unambiguous and thousands
    /// separators: `$1,234.50`, `€12.00`, `¥1,500`, `KWD 1.500`, `-£5.00`.
    pub fn display_with_symbol(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        let div = 10u64.pow(exp);
        let major = group_thousands(abs / div);
        let number = if exp == 0 { major } else { format!("{major}.{:0width$}", abs % div, width = exp as usize) };
        match self.currency.symbol() {
            Some(sym) => format!("{sign}{sym}{number}"),
            None => format!("{} {sign}{number}", self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn exponents_are_iso_4217() {
        for (code, exp) in [("USD", 2), ("JPY", 0), ("KWD", 3), ("eur", 2)] {
            assert_eq!(Currency::parse(code).map(|c| c.exponent()), Ok(exp), "{code}");
        }
        assert!(matches!(Currency::parse("XXQ"), Err(MoneyError::UnknownCurrency(_))));
    }

    #[test]
    fn display_uses_exponent() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(1250, usd).display(), "USD 12.50");
        assert_eq!(Money::new(-5, usd).display(), "USD -0.05");
        assert_eq!(Money::new(1500, jpy).display(), "JPY 1500");
        assert_eq!(Money::new(1500, kwd).display(), "KWD 1.500");
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        assert!(Money::new(1, usd).checked_add(Money::new(1, eur)).is_err());
        assert_eq!(Money::new(1, usd).checked_add(Money::new(2, usd)), Ok(Money::new(3, usd)));
    }

    #[test]
    fn serde_shape() {
        let usd = Currency::parse("USD").unwrap();
        let json = serde_json::to_string(&Money::new(4500, usd)).unwrap();
        assert_eq!(json, r#"{"amount":4500,"currency":"USD"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"ZZZ"}"#).is_err());
    }

    #[test]
    fn rounding_modes_table() {
        // (n, d, half_up, half_even)
        let cases = [
            (5, 2, 3, 2),
            (7, 2, 4, 4),
            (-5, 2, -3, -2),
            (-7, 2, -4, -4),
            (1, 3, 0, 0),
            (2, 3, 1, 1),
            (-2, 3, -1, -1),
            (0, 7, 0, 0),
            (25, 10, 3, 2),
            (35, 10, 4, 4),
        ];
        for (n, d, up, even) in cases {
            assert_eq!(div_round(n, d, Rounding::HalfUp), up, "{n}/{d} half-up");
            assert_eq!(div_round(n, d, Rounding::HalfEven), even, "{n}/{d} half-even");
        }
    }

    #[test]
    fn percent_of_money_rounds_per_currency() {
        let usd = Currency::USD;
        // 12.5 % of $0.20 = 2.5 cents.
        let m = Money::new(20, usd);
        assert_eq!(m.percent(Percent::from_basis_points(1250), Rounding::HalfUp), Ok(Money::new(3, usd)));
        assert_eq!(m.percent(Percent::from_basis_points(1250), Rounding::HalfEven), Ok(Money::new(2, usd)));
        // JPY has no minor unit: 10 % of ¥1,005 = ¥100.5 → ¥101.
        let y = Money::new(1005, Currency::JPY);
        assert_eq!(y.percent(Percent::whole(10), PRICING_ROUNDING), Ok(Money::new(101, Currency::JPY)));
        // KWD has three: 15 % of 1.001 KWD = 0.15015 → 0.150.
        let k = Money::new(1001, Currency::KWD);
        assert_eq!(k.percent(Percent::whole(15), PRICING_ROUNDING), Ok(Money::new(150, Currency::KWD)));
        assert_eq!(Money::new(i64::MAX, usd).percent(Percent::whole(200), PRICING_ROUNDING), Err(MoneyError::Overflow));
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let usd = Currency::USD;
        let eur = Currency::EUR;
        assert!(matches!(Money::new(5, usd).checked_sub(Money::new(1, eur)), Err(MoneyError::CurrencyMismatch(_, _))));
        assert_eq!(Money::new(5, usd).checked_sub(Money::new(7, usd)), Ok(Money::new(-2, usd)));
        assert_eq!(Money::new(250, usd).checked_mul(3), Ok(Money::new(750, usd)));
        assert_eq!(Money::new(i64::MAX, usd).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(Money::new(-3, usd).non_negative(), Money::zero(usd));
        assert_eq!(Money::sum(usd, &[Money::new(1, usd), Money::new(2, usd)]), Ok(Money::new(3, usd)));
        assert!(Money::sum(usd, &[Money::new(1, eur)]).is_err());
    }

    #[test]
    fn parses_decimal_amounts_and_percents() {
        let cases: &[(&str, Currency, Option<i64>)] = &[
            ("12.5", Currency::USD, Some(1250)),
            ("12.50", Currency::USD, Some(1250)),
            ("-0.05", Currency::USD, Some(-5)),
            ("1500", Currency::JPY, Some(1500)),
            ("15.5", Currency::JPY, None),
            ("1.5", Currency::KWD, Some(1500)),
            ("1.2345", Currency::KWD, None),
            ("", Currency::USD, None),
            ("1,000", Currency::USD, None),
            ("abc", Currency::USD, None),
        ];
        for (s, c, want) in cases {
            assert_eq!(Money::from_decimal_str(s, *c).ok().map(|m| m.amount), *want, "{s} {c}");
        }
        assert_eq!(Percent::parse("20"), Ok(Percent::whole(20)));
        assert_eq!(Percent::parse("12.5"), Ok(Percent::from_basis_points(1250)));
        assert_eq!(Percent::parse("-10"), Ok(Percent::whole(-10)));
        assert!(Percent::parse("1.234").is_err());
        assert_eq!(Percent::from_basis_points(1250).to_string(), "12.5%");
        assert_eq!(Percent::from_basis_points(1225).to_string(), "12.25%");
        assert_eq!(Percent::whole(-10).to_string(), "-10%");
        assert_eq!(serde_json::to_string(&Percent::whole(20)).unwrap(), "2000");
    }

    #[test]
    fn display_with_symbol_table() {
        let cases = [
            (123_450, Currency::USD, "$1,234.50"),
            (1200, Currency::EUR, "€12.00"),
            (-500, Currency::GBP, "-£5.00"),
            (1_500, Currency::JPY, "¥1,500"),
            (1500, Currency::KWD, "KWD 1.500"),
            (5, Currency::USD, "$0.05"),
        ];
        for (amount, c, want) in cases {
            assert_eq!(Money::new(amount, c).display_with_symbol(), want);
        }
        let chf = Currency::parse("CHF").unwrap();
        assert_eq!(Money::new(100_000_000, chf).display_with_symbol(), "CHF 1,000,000.00");
    }
}

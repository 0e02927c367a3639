//! Manifests as files: CSV (one row per seat) and PDF (printable, A4), for one departure or for a
//! guide's day (several departures). Pure: the caller writes the bytes where it wants. Both show
//! each booking's check-in state and its special requests and dietary notes.
//!
//! The PDF uses the standard Helvetica font (no font file embedded) with WinAnsi encoding: text
//! outside it (Latin-1, the euro sign, dashes, curly quotes) is written as `?`.

use std::fmt::Write as _;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::entities::CheckInKind;
use crate::ipc::{Manifest, ManifestBooking};

/// The CSV header, one column per field.
pub const CSV_HEADER: &[&str] = &[
    "departure_id",
    "tour",
    "date",
    "time",
    "timezone",
    "meeting_point",
    "reference",
    "customer",
    "phone",
    "booking_status",
    "seat",
    "participant",
    "check_in",
    "special_requests",
    "dietary_restrictions",
];

/// A field quoted per RFC 4180 when it needs it. A leading `=`, `+`, `-` or `@` is prefixed with
/// `'` so a spreadsheet never runs a guest's text as a formula. Every CSV the desk writes (manifests,
/// reports) goes through this one rule.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

fn check_in_word(b: &ManifestBooking, seat: u32) -> &'static str {
    match b.participants.iter().find(|p| p.index == seat).and_then(|p| p.attendance) {
        Some(CheckInKind::CheckedIn) => "checked in",
        Some(CheckInKind::NoShow) => "no-show",
        None => "expected",
    }
}

fn participant_name(b: &ManifestBooking, seat: u32) -> String {
    b.participants
        .iter()
        .find(|p| p.index == seat)
        .map(|p| format!("{} {}", p.first_name, p.last_name).trim().to_string())
        .unwrap_or_default()
}

/// CSV of one or more manifests (a guide's day), CRLF line ends, one row per seat.
pub fn to_csv(manifests: &[Manifest]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for m in manifests {
        let d = &m.departure.departure;
        for b in &m.bookings {
            for seat in 0..b.pax {
                let row = [
                    d.id.clone(),
                    m.tour_name.clone(),
                    d.local_date.to_string(),
                    d.local_time.format("%H:%M").to_string(),
                    d.timezone.clone(),
                    m.meeting_point.clone(),
                    b.reference_number.clone(),
                    b.customer_name.clone(),
                    b.customer_phone.clone().unwrap_or_default(),
                    b.status.as_str().to_string(),
                    (seat + 1).to_string(),
                    participant_name(b, seat),
                    check_in_word(b, seat).to_string(),
                    b.special_requests.clone().unwrap_or_default(),
                    b.dietary_restrictions.clone().unwrap_or_default(),
                ];
                let line: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
                let _ = write!(out, "{}\r\n", line.join(","));
            }
        }
    }
    out
}

/// WinAnsi bytes for the standard font (Latin-1 and the euro sign, dashes, curly quotes); anything
/// else is `?`, control characters a space.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            n if n < 0x20 => b' ',
            n @ 0x20..=0x7e => n as u8,
            n @ 0xa0..=0xff => n as u8,
            // WinAnsi's own code points above Latin-1: money and typography staff type.
            0x20ac => 0x80,
            0x2026 => 0x85,
            0x2018 => 0x91,
            0x2019 => 0x92,
            0x201c => 0x93,
            0x201d => 0x94,
            0x2022 => 0x95,
            0x2013 => 0x96,
            0x2014 => 0x97,
            0x2122 => 0x99,
            _ => b'?',
        })
        .collect()
}

/// The lines a manifest prints as: a heading, then per booking a line and its notes.
fn lines(m: &Manifest) -> Vec<(f32, String)> {
    let d = &m.departure.departure;
    let seats: u32 = m.bookings.iter().map(|b| b.pax).sum();
    let checked: u32 = m.bookings.iter().map(|b| b.checked_in).sum();
    let mut out = vec![
        (16.0, format!("{} - {} {}", m.tour_name, d.local_date, d.local_time.format("%H:%M"))),
        (10.0, format!("{} ({}); meeting point: {}", d.timezone, d.status, m.meeting_point)),
        (
            10.0,
            format!(
                "{seats} guests booked, {checked} checked in, {} of {} seats free",
                m.departure.seats_left, d.capacity
            ),
        ),
        (10.0, String::new()),
    ];
    for b in &m.bookings {
        let phone = b.customer_phone.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
        out.push((11.0, format!("{}  {}{}  x{}  [{}]", b.reference_number, b.customer_name, phone, b.pax, b.status)));
        for seat in 0..b.pax {
            let name = participant_name(b, seat);
            let name = if name.is_empty() { format!("guest {}", seat + 1) } else { name };
            out.push((10.0, format!("    [{}] {}", check_in_word(b, seat), name)));
        }
        if let Some(r) = b.special_requests.as_deref().filter(|r| !r.is_empty()) {
            out.push((10.0, format!("    Special requests: {r}")));
        }
        if let Some(r) = b.dietary_restrictions.as_deref().filter(|r| !r.is_empty()) {
            out.push((10.0, format!("    Dietary: {r}")));
        }
    }
    if m.bookings.is_empty() {
        out.push((10.0, "No bookings.".into()));
    }
    out
}

/// Long lines wrapped at about `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + word.chars().count() + 1 > width {
            out.push(std::mem::take(&mut line));
            line.push_str("      ");
        }
        if !line.is_empty() && !line.ends_with("      ") {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// A4 PDF of one or more manifests, each starting on a new page.
pub fn to_pdf(manifests: &[Manifest]) -> Vec<u8> {
    text_pdf(&manifests.iter().map(lines).collect::<Vec<_>>(), "No departures.")
}

/// A4 PDF of text documents, each a list of `(font size, line)` starting on a new page and
/// running onto more as it needs; long lines are wrapped. With no document, one page saying
/// `empty`. The manifests' writer, and a booking's receipt's (`receipt`).
pub fn text_pdf(documents: &[Vec<(f32, String)>], empty: &str) -> Vec<u8> {
    const W: f32 = 595.0;
    const H: f32 = 842.0;
    const MARGIN: f32 = 50.0;
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let mut next = 4;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    // Pages: each a list of (size, text) lines.
    let mut pages: Vec<Vec<(f32, String)>> = vec![];
    for document in documents {
        let mut page = vec![];
        let mut y = H - MARGIN;
        for (size, text) in document {
            let size = *size;
            for part in wrap(text, if size > 12.0 { 60 } else { 95 }) {
                if y - size * 1.4 < MARGIN {
                    pages.push(std::mem::take(&mut page));
                    y = H - MARGIN;
                }
                y -= size * 1.4;
                page.push((size, part));
            }
        }
        pages.push(page);
    }
    if pages.is_empty() {
        pages.push(vec![(10.0, empty.to_string())]);
    }
    let ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(p, _)| *p)).count(ids.len() as i32);
    for (lines, (page_id, content_id)) in pages.iter().zip(&ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, W, H));
        page.parent(tree);
        page.contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut c = Content::new();
        let mut y = H - MARGIN;
        for (size, text) in lines {
            y -= size * 1.4;
            c.begin_text();
            c.set_font(Name(b"F1"), *size);
            c.next_line(MARGIN, y);
            c.show(Str(&win_ansi(text)));
            c.end_text();
        }
        pdf.stream(*content_id, &c.finish());
    }
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ipc::{DepartureView, ManifestParticipant};
    use crate::status::BookingStatus;

    pub fn sample() -> Manifest {
        let departure = crate::fixtures::departure();
        Manifest {
            departure: DepartureView { seats_left: 7, departure },
            tour_name: "Old Town, \"by night\"".into(),
            meeting_point: "Praça do Comércio".into(),
            bookings: vec![ManifestBooking {
                booking_id: "b-1".into(),
                reference_number: "BK-2026-ABCDEF".into(),
                customer_name: "Ana Silva".into(),
                customer_phone: Some("+351912000999".into()),
                pax: 2,
                status: BookingStatus::Confirmed,
                special_requests: Some("=cmd|' /C calc'!A0".into()),
                dietary_restrictions: Some("vegetarian, no nuts".into()),
                checked_in: 1,
                no_shows: 0,
                pending: false,
                participants: vec![ManifestParticipant {
                    index: 0,
                    first_name: "Ana".into(),
                    last_name: "Silva".into(),
                    attendance: Some(CheckInKind::CheckedIn),
                    attendance_pending: false,
                }],
            }],
        }
    }

    #[test]
    fn csv_has_a_row_per_seat_with_check_in_and_notes_and_defuses_formulas() {
        let csv = to_csv(&[sample()]);
        let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(rows.len(), 3, "{csv}");
        assert_eq!(rows[0], CSV_HEADER.join(","));
        assert!(rows[1].contains(",Ana Silva,checked in,"), "{}", rows[1]);
        assert!(rows[2].contains(",2,,expected,"), "{}", rows[2]);
        assert!(rows[1].contains("\"Old Town, \"\"by night\"\"\""), "{}", rows[1]);
        assert!(rows[1].contains("'=cmd"), "a formula is defused: {}", rows[1]);
        assert!(rows[1].ends_with("\"vegetarian, no nuts\""), "{}", rows[1]);
    }

    #[test]
    fn pdf_is_a_pdf_with_a_page_per_manifest() {
        let pdf = to_pdf(&[sample(), sample()]);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(
            text.matches("/Type /Page\n").count()
                + text.matches("/Type /Page\r").count()
                + text.matches("/Type /Page ").count()
                + text.matches("/Type /Page/").count(),
            2,
            "two pages"
        );
        assert!(to_pdf(&[]).starts_with(b"%PDF-"));
        assert_eq!(win_ansi("Praça €5 – ok ✓"), b"Pra\xe7a \x805 \x96 ok ?".to_vec());
    }
}

//! Reports and lists as spreadsheet files (issue 16, export). CSV is the domain's
//! ([`ReportTable::to_csv`]); XLSX is written here with `rust_xlsxwriter`, from the same table, so
//! the two files hold the same cells:
//!
//! - text is a string cell (never a formula, whatever it starts with);
//! - counts are whole numbers;
//! - money is a number in the currency's major unit with a format of the currency's exponent
//!   (`0.00` for EUR, `0` for JPY), so a spreadsheet sums it and shows what the CSV writes. The
//!   amount is exact as the decimal string shows it: a minor-unit amount below 2^53 divided by a
//!   power of ten, read back and written with the exponent's digits, gives the same decimal;
//! - ratios (`PerMille`) are percentages with one decimal, as in the CSV; an empty ratio is an
//!   empty cell.
//!
//! The header row is the table's columns, frozen; the totals (one row per currency) follow the
//! rows after one empty row, so the rows read back exactly as the CSV's.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use tourdesk_domain::reports::{Cell, ReportTable};

use crate::StoreError;

fn xlsx_error(e: XlsxError) -> StoreError {
    StoreError::Export(format!("could not write the spreadsheet: {e}"))
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not blank.
fn sheet_name(title: &str) -> String {
    let name: String = title.chars().map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c }).take(31).collect::<String>();
    let name = name.trim().trim_matches('\'').to_string();
    if name.is_empty() { "Report".into() } else { name }
}

/// The number format showing `exponent` decimals.
fn decimals(exponent: u8) -> String {
    if exponent == 0 { "0".into() } else { format!("0.{}", "0".repeat(usize::from(exponent))) }
}

/// The table as an XLSX workbook of one sheet, as bytes.
pub fn report_xlsx(t: &ReportTable) -> Result<Vec<u8>, StoreError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0");
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(&t.title)).map_err(xlsx_error)?;
    for (col, name) in t.columns.iter().enumerate() {
        let col = column(col)?;
        sheet.write_string_with_format(0, col, name, &bold).map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let totals_from = t.rows.len() + 2;
    let rows = t.rows.iter().enumerate().map(|(i, r)| (i + 1, r));
    let totals = t.totals.iter().enumerate().map(|(i, r)| (totals_from + i, r));
    for (row, cells) in rows.chain(totals) {
        let row = u32::try_from(row).map_err(|_| StoreError::Export("too many rows for a spreadsheet".into()))?;
        let is_total = row as usize >= totals_from;
        for (col, cell) in cells.iter().enumerate() {
            let col = column(col)?;
            match cell {
                Cell::Text(s) if is_total => sheet.write_string_with_format(row, col, s, &bold),
                Cell::Text(s) => sheet.write_string(row, col, s),
                Cell::Count(n) => sheet.write_number(row, col, *n as f64),
                Cell::Money(m) => {
                    let exponent = m.currency.exponent();
                    let value = m.amount as f64 / 10f64.powi(i32::from(exponent));
                    sheet.write_number_with_format(row, col, value, &Format::new().set_num_format(decimals(exponent)))
                }
                Cell::PerMille(Some(p)) => sheet.write_number_with_format(row, col, *p as f64 / 10.0, &percent),
                Cell::PerMille(None) | Cell::Stars(None) => continue,
                Cell::Stars(Some(t)) => sheet.write_number_with_format(row, col, *t as f64 / 10.0, &percent),
            }
            .map_err(xlsx_error)?;
        }
    }
    sheet.autofit();
    book.save_to_buffer().map_err(xlsx_error)
}

fn column(i: usize) -> Result<u16, StoreError> {
    u16::try_from(i).map_err(|_| StoreError::Export("too many columns for a spreadsheet".into()))
}

/// The CSV's text for a number read back from the XLSX written by [`report_xlsx`], given the cell
/// it came from (tests and the export check use it to compare the two files cell for cell).
pub fn xlsx_number_as_csv(value: f64, cell: &Cell) -> String {
    match cell {
        Cell::Money(m) => format!("{:.*}", usize::from(m.currency.exponent()), value),
        Cell::PerMille(_) | Cell::Stars(_) => format!("{value:.1}"),
        _ => format!("{value}"),
    }
}

//! Tidy tables as RFC 4180 CSV.

use crate::report::{DataTable, Datum};

/// Formats a measurement so that it reads back as the same f64 in pandas, R and Excel:
/// the shortest round-trip decimal, in scientific notation outside [1e-4, 1e15) (so 1e-300
/// is not three hundred zeros), `inf`/`-inf` for infinities and an empty field for NaN
/// (read as missing).
///
/// ```
/// use stuck::output::format_real;
/// assert_eq!(format_real(0.125), "0.125");
/// assert_eq!(format_real(1e-300), "1e-300");
/// assert_eq!(format_real(f64::NEG_INFINITY), "-inf");
/// assert_eq!(format_real(f64::NAN), "");
/// ```
pub fn format_real(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else if x == 0.0 || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The table as CSV bytes: a header row, then one line per row; quoting only where
/// RFC 4180 needs it. The bytes depend only on the table's contents.
pub fn table_to_csv(table: &DataTable) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&table.columns)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|d| match d {
            Datum::Text(s) => s.clone(),
            Datum::Integer(i) => i.to_string(),
            Datum::Real(x) => format_real(*x),
            Datum::Missing => String::new(),
        }))?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_round_trip() {
        for x in [0.1, 1.0 / 3.0, 2f64.powi(-60), 6.02e23, -1e-5, 123456.789] {
            assert_eq!(format_real(x).parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut table = DataTable::new("", &["a", "b"]);
        table.push(vec![Datum::Text("x, y".into()), Datum::Real(0.5)]);
        table.push(vec![Datum::Missing, Datum::Integer(-3)]);
        let text = String::from_utf8(table_to_csv(&table).unwrap()).unwrap();
        assert_eq!(text, "a,b\n\"x, y\",0.5\n,-3\n");
    }
}

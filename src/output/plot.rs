//! PNG plots drawn in pure Rust (plotters' bitmap backend with an embedded DejaVu font, so no
//! system font library is needed).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::OutputError;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        // The embedded font is valid; a failure would only cost the labels.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// One line of a plot: a label and its (x, y) points.
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Whether the points are joined by a line (else markers only: a scatter plot).
    pub lines: bool,
}

/// Draws `series` as markers, joined by lines where the series asks for it, plus the dashed reference `y = x` if `diagonal`,
/// into a 900×600 PNG at `path`.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    diagonal: bool,
) -> Result<(), OutputError> {
    register_font();
    let error = |e: &dyn std::fmt::Display| OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| p.0.is_finite() && p.1.is_finite())
    };
    // Axes fit the data; a plot with the y = x reference also shows the origin.
    let start = if diagonal {
        (0.0, 0.0)
    } else {
        (f64::INFINITY, f64::NEG_INFINITY)
    };
    let (x_min, x_max) = finite().fold(start, |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (y_min, y_max) = finite().fold(start, |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let (x_min, x_max) = if x_min <= x_max {
        (x_min, x_max)
    } else {
        (0.0, 1.0)
    };
    let (y_min, y_max) = if y_min <= y_max {
        (y_min, y_max)
    } else {
        (0.0, 1.0)
    };
    let y_max = if diagonal { y_max.max(x_max) } else { y_max };
    let pad = |lo: f64, hi: f64| ((hi - lo) * 0.05).max(1e-3 * lo.abs().max(1.0));
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            x_min - pad(x_min, x_max)..x_max + pad(x_min, x_max),
            y_min - pad(y_min, y_max)..y_max + pad(y_min, y_max),
        )
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| error(&e))?;
    if diagonal {
        let limit = x_max * 1.05;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (limit, limit)],
                BLACK.mix(0.4),
            ))
            .map_err(|e| error(&e))?
            .label("ideal")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    }
    for (i, s) in series.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        let joined = if s.lines {
            s.points.clone()
        } else {
            Vec::new()
        };
        chart
            .draw_series(LineSeries::new(joined, colour.stroke_width(2)))
            .map_err(|e| error(&e))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart
            .draw_series(
                s.points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .map(|&p| Circle::new(p, 4, colour.filled())),
            )
            .map_err(|e| error(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| error(&e))?;
    root.present().map_err(|e| error(&e))
}

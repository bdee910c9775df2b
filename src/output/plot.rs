//! PNG plots drawn in pure Rust (plotters' bitmap backend with an embedded DejaVu font, so no
//! system font library is needed).

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::OutputError;
use crate::report::Look;

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

/// One line of a plot: a label, its (x, y) points and their error bars.
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Whether the points are joined by a line (else markers only: a scatter plot).
    pub lines: bool,
    /// Vertical error bars `(x, low, high)` drawn in the series' colour (empty: none).
    pub intervals: Vec<(f64, f64, f64)>,
    /// A prediction rather than a measurement: a dashed line without markers (dark unless the
    /// series has a look).
    pub reference: bool,
    /// An explicit colour and marker; `None` takes the next in turn.
    pub look: Option<Look>,
}

/// The Okabe–Ito palette (M. Okabe & K. Ito, "Color Universal Design", 2002): eight colours
/// that stay distinct under the common colour-vision deficiencies; black is kept for the
/// reference lines.
const PALETTE: [RGBColor; 7] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
];

/// How the axes are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Axes {
    /// Draw the dashed reference `y = x` (and include the origin).
    pub diagonal: bool,
    /// A logarithmic x axis (points at x ≤ 0 cannot be shown and are left out).
    pub log_x: bool,
    /// A logarithmic y axis (points and bar ends at y ≤ 0 cannot be shown and are left out).
    pub log_y: bool,
}

impl Axes {
    /// Whether the point is finite and inside what the axes can show.
    fn shows(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (!self.log_x || x > 0.0) && (!self.log_y || y > 0.0)
    }
}

/// Width in pixels of the plotting panel; the legend panel is added to its right, outside the
/// data.
const PLOT_WIDTH: u32 = 900;

/// Marker shapes of measurements: circle, square, triangle, cross.
const MARKER_SHAPES: usize = 4;

/// Height in pixels of a figure whose legend fits beside it.
const PLOT_HEIGHT: u32 = 600;

/// Legend layout: the first row's baseline and the spacing of the rows, in pixels.
const LEGEND_TOP: u32 = 70;
const LEGEND_ROW: u32 = 24;

/// Shades of the predictions' dashed lines: black, then greys.
const REFERENCE_SHADES: [RGBColor; 3] = [
    RGBColor(0, 0, 0),
    RGBColor(90, 90, 90),
    RGBColor(150, 150, 150),
];

/// Draws `series` as markers, joined by lines where the series asks for it, with their error
/// bars, on the given `axes`, with the legend in a panel right of the data, into a PNG at
/// `path` (900×600 plus the legend, taller if the legend needs it) and the same figure as SVG
/// beside it (`path` with the extension `svg`: vector, for print).
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    axes: Axes,
) -> Result<(), OutputError> {
    register_font();
    let figure = Figure {
        title,
        x_label,
        y_label,
        series,
        axes,
    };
    let error = |path: &Path, e: &dyn std::fmt::Display| OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let size = (PLOT_WIDTH + figure.legend_width(), figure.height());
    let root = BitMapBackend::new(path, size).into_drawing_area();
    figure.draw(&root).map_err(|e| error(path, &e))?;
    root.present().map_err(|e| error(path, &e))?;
    drop(root);
    let svg = path.with_extension("svg");
    let root = SVGBackend::new(&svg, size).into_drawing_area();
    figure.draw(&root).map_err(|e| error(&svg, &e))?;
    root.present().map_err(|e| error(&svg, &e))
}

/// How one series is drawn.
#[derive(Clone, Copy)]
struct Style {
    colour: RGBColor,
    /// The marker shape of a measurement (0 circle, 1 square, 2 triangle, 3 cross); `None` for a
    /// prediction (a dashed line).
    marker: Option<usize>,
}

/// A tick label: integers as integers (`5`, not `5.0`), other values to four significant
/// digits without trailing zeros.
fn tick(x: f64) -> String {
    if x == x.round() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e4) {
        // 1e-3, 2.5e-4: the mantissa to three digits, trailing zeros dropped.
        let text = format!("{x:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    } else {
        crate::report::short(x)
    }
}

/// What one figure shows, drawn the same way on every backend.
struct Figure<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
    axes: Axes,
}

impl Figure<'_> {
    /// The style of every series, in order: a series with a look takes its palette colour and
    /// marker (dashed in that colour if it is a prediction); the others take, in turn, the
    /// palette's colours (circles, then squares, triangles, crosses as the colours repeat) if
    /// they are measurements, the dashed shades if they are predictions.
    fn styles(&self) -> Vec<Style> {
        let (mut measured, mut predicted) = (0, 0);
        self.series
            .iter()
            .map(|s| {
                if let Some(look) = s.look {
                    Style {
                        colour: PALETTE[look.colour % PALETTE.len()],
                        marker: (!s.reference).then_some(look.marker % MARKER_SHAPES),
                    }
                } else if s.reference {
                    predicted += 1;
                    Style {
                        colour: REFERENCE_SHADES[(predicted - 1) % REFERENCE_SHADES.len()],
                        marker: None,
                    }
                } else {
                    measured += 1;
                    let round = (measured - 1) / PALETTE.len();
                    Style {
                        colour: PALETTE[(measured - 1) % PALETTE.len()],
                        marker: Some(round % MARKER_SHAPES),
                    }
                }
            })
            .collect()
    }

    /// The legend entries: every series, then the y = x reference.
    fn legend_entries(&self) -> Vec<(String, Style)> {
        let mut entries: Vec<(String, Style)> = self
            .series
            .iter()
            .zip(self.styles())
            .map(|(s, style)| (s.label.clone(), style))
            .collect();
        if self.axes.diagonal {
            entries.push((
                "ideal".into(),
                Style {
                    colour: BLACK,
                    marker: None,
                },
            ));
        }
        entries
    }

    /// Width of the legend panel: room for the longest label (about 8 px per character at
    /// 15 px), between 120 and 360 px.
    fn legend_width(&self) -> u32 {
        let longest = self
            .legend_entries()
            .iter()
            .map(|(label, _)| label.chars().count())
            .max()
            .unwrap_or(0) as u32;
        (longest * 8 + 60).clamp(120, 360)
    }

    /// Height of the figure: 600 px, or taller when the legend needs more rows than that
    /// (so that no entry is cut off).
    fn height(&self) -> u32 {
        let rows = self.legend_entries().len() as u32;
        PLOT_HEIGHT.max(LEGEND_TOP + LEGEND_ROW * rows + LEGEND_ROW)
    }

    /// One row per entry: a line (dashed for predictions) with a marker for measurements,
    /// then the label.
    fn draw_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        for (row, (label, style)) in self.legend_entries().into_iter().enumerate() {
            let y = (LEGEND_TOP + LEGEND_ROW * row as u32) as i32;
            let line = style.colour.stroke_width(2);
            match style.marker {
                None => {
                    for x in [4, 14, 24] {
                        area.draw(&PathElement::new([(x, y), (x + 6, y)], line))?;
                    }
                }
                Some(shape) => {
                    area.draw(&PathElement::new([(4, y), (30, y)], line))?;
                    let fill = style.colour.filled();
                    let at = EmptyElement::at((17, y));
                    match shape {
                        0 => area.draw(&(at + Circle::new((0, 0), 4, fill)))?,
                        1 => area.draw(&(at + Rectangle::new([(-4, -4), (4, 4)], fill)))?,
                        2 => area.draw(&(at + TriangleMarker::new((0, 0), 5, fill)))?,
                        _ => area.draw(&(at + Cross::new((0, 0), 4, line)))?,
                    }
                }
            }
            area.draw(&Text::new(label, (38, y - 8), ("sans-serif", 15)))?;
        }
        Ok(())
    }

    /// Every finite point and bar end that the axes can show.
    fn shown(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let axes = self.axes;
        self.series
            .iter()
            .flat_map(|s| {
                s.points.iter().copied().chain(
                    s.intervals
                        .iter()
                        .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]),
                )
            })
            .filter(move |p| axes.shows(*p))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        // Axes fit the data and the error bars; a plot with the y = x reference also shows
        // the origin.
        let start = if self.axes.diagonal {
            (0.0, 0.0)
        } else {
            (f64::INFINITY, f64::NEG_INFINITY)
        };
        let (x_min, x_max) = self
            .shown()
            .fold(start, |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
        let (y_min, y_max) = self
            .shown()
            .fold(start, |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        let (x_min, x_max) = if x_min <= x_max {
            (x_min, x_max)
        } else {
            (0.0, 1.0)
        };
        let (y_min, y_max) = if y_min <= y_max {
            (y_min, y_max)
        } else {
            (0.1, 1.0)
        };
        let y_max = if self.axes.diagonal {
            y_max.max(x_max)
        } else {
            y_max
        };
        let pad = |lo: f64, hi: f64| ((hi - lo) * 0.05).max(1e-3 * lo.abs().max(1.0));
        let x_range = x_min - pad(x_min, x_max)..x_max + pad(x_min, x_max);
        root.fill(&WHITE)?;
        let (panel, legend) = root.split_horizontally(PLOT_WIDTH);
        self.draw_legend(&legend)?;
        let mut builder = ChartBuilder::on(&panel);
        builder
            .caption(self.title, ("sans-serif", 24))
            .margin(20)
            .x_label_area_size(45)
            .y_label_area_size(70);
        // Log axes get a fifth of a decade of room on either side.
        let log_range = |lo: f64, hi: f64| {
            let (lo, hi) = (lo / 10f64.powf(0.2), hi * 10f64.powf(0.2));
            (lo..if hi > lo { hi } else { lo * 10.0 }).log_scale()
        };
        let y_range = y_min - pad(y_min, y_max)..y_max + pad(y_min, y_max);
        let span = (x_min, x_max);
        match (self.axes.log_x, self.axes.log_y) {
            (false, false) => {
                self.draw_on(&mut builder.build_cartesian_2d(x_range, y_range)?, span)
            }
            (false, true) => self.draw_on(
                &mut builder.build_cartesian_2d(x_range, log_range(y_min, y_max))?,
                span,
            ),
            (true, false) => self.draw_on(
                &mut builder.build_cartesian_2d(log_range(x_min, x_max), y_range)?,
                span,
            ),
            (true, true) => self.draw_on(
                &mut builder
                    .build_cartesian_2d(log_range(x_min, x_max), log_range(y_min, y_max))?,
                span,
            ),
        }
    }

    /// The mesh, the series and their bars on a chart with any x and y coordinates.
    fn draw_on<'a, DB, X, Y>(
        &self,
        chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
        (_, x_max): (f64, f64),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let shown = |p: &(f64, f64)| self.axes.shows(*p);
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y))
            .draw()?;
        if self.axes.diagonal {
            let limit = x_max * 1.05;
            chart.draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (limit, limit)],
                8,
                5,
                BLACK.stroke_width(1),
            ))?;
        }
        for (s, style) in self.series.iter().zip(self.styles()) {
            let colour = style.colour;
            let Some(shape) = style.marker else {
                let points: Vec<(f64, f64)> = s.points.iter().copied().filter(shown).collect();
                chart.draw_series(DashedLineSeries::new(points, 10, 6, colour.stroke_width(2)))?;
                continue;
            };
            let joined: Vec<(f64, f64)> = if s.lines {
                s.points.iter().copied().filter(shown).collect()
            } else {
                Vec::new()
            };
            chart.draw_series(LineSeries::new(joined, colour.stroke_width(2)))?;
            // A bar from low to high with short caps of fixed pixel width (plotters' ErrorBar
            // would also mark the midpoint, which is not the estimate of an asymmetric
            // interval).
            let line = colour.stroke_width(2);
            chart.draw_series(
                s.intervals
                    .iter()
                    .filter(|&&(x, lo, hi)| shown(&(x, lo)) && shown(&(x, hi)))
                    .map(|&(x, lo, hi)| PathElement::new(vec![(x, lo), (x, hi)], line)),
            )?;
            chart.draw_series(
                s.intervals
                    .iter()
                    .filter(|&&(x, lo, hi)| shown(&(x, lo)) && shown(&(x, hi)))
                    .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])
                    .map(|end| EmptyElement::at(end) + PathElement::new([(-5, 0), (5, 0)], line)),
            )?;
            // Filled markers: circles, squares once the palette repeats, then triangles, then
            // crosses.
            let points = s.points.iter().copied().filter(shown);
            let fill = colour.filled();
            match shape {
                0 => chart.draw_series(points.map(|p| Circle::new(p, 4, fill)))?,
                1 => chart.draw_series(
                    points.map(|p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], fill)),
                )?,
                2 => chart.draw_series(points.map(|p| TriangleMarker::new(p, 5, fill)))?,
                _ => chart.draw_series(points.map(|p| Cross::new(p, 4, line)))?,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_print_integers_as_integers() {
        assert_eq!(tick(5.0), "5");
        assert_eq!(tick(-20.0), "-20");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1.0 / 3.0), "0.333");
        assert_eq!(tick(1e-3), "1e-3");
        assert_eq!(tick(2.5e-4), "2.5e-4");
        assert_eq!(tick(1.234_567e-5), "1.23e-5");
    }

    #[test]
    fn a_plot_is_written_as_png_and_as_svg_with_its_error_bars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figure.png");
        let series = [Series {
            label: "measured".into(),
            points: vec![(1.0, 2.0), (2.0, 3.0)],
            lines: false,
            intervals: vec![(1.0, 1.5, 2.5), (2.0, 2.0, 4.0)],
            reference: false,
            look: None,
        }];
        line_plot(&path, "title", "x", "y", &series, Axes::default()).unwrap();
        let png = std::fs::read(&path).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(dir.path().join("figure.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("measured"));
        // Each bar is three paths (the bar and two caps), in the series' colour.
        let colour = "#E69F00";
        assert!(svg.matches(colour).count() >= 6, "{svg}");
    }

    /// A one-point series for the style tests.
    fn one_point(label: impl Into<String>, reference: bool, look: Option<Look>) -> Series {
        Series {
            label: label.into(),
            points: vec![(1.0, 1.0)],
            lines: true,
            intervals: Vec::new(),
            reference,
            look,
        }
    }

    /// The colour and marker of every series of a figure of `series`.
    fn styles_of(series: &[Series]) -> Vec<(RGBColor, Option<usize>)> {
        let figure = Figure {
            title: "t",
            x_label: "x",
            y_label: "y",
            series,
            axes: Axes::default(),
        };
        figure
            .styles()
            .iter()
            .map(|s| (s.colour, s.marker))
            .collect()
    }

    #[test]
    fn a_look_fixes_colour_and_marker_and_leaves_the_automatic_order_alone() {
        let looked = Some(Look {
            colour: 2,
            marker: 1,
        });
        let styles = styles_of(&[
            one_point("D=3 gaussian", false, looked),
            one_point("Saxe D=3", true, looked),
            one_point("first automatic", false, None),
            one_point("first prediction", true, None),
        ]);
        assert_eq!(
            styles,
            vec![
                (PALETTE[2], Some(1)),
                (PALETTE[2], None),
                (PALETTE[0], Some(0)),
                (REFERENCE_SHADES[0], None),
            ]
        );
    }

    /// The automatic order runs through the palette with circles, then squares, triangles and
    /// crosses, then circles again; an explicit marker is taken modulo the four shapes.
    #[test]
    fn markers_cycle_through_four_shapes() {
        let mut series: Vec<Series> = (0..4 * PALETTE.len() + 2)
            .map(|i| one_point(format!("series {i}"), false, None))
            .collect();
        series[0].look = Some(Look {
            colour: 0,
            marker: 5,
        });
        let markers: Vec<Option<usize>> = styles_of(&series).iter().map(|s| s.1).collect();
        let n = PALETTE.len();
        assert_eq!(markers[0], Some(1));
        assert_eq!(markers[1], Some(0));
        assert_eq!(markers[n + 1], Some(1));
        assert_eq!(markers[2 * n + 1], Some(2));
        assert_eq!(markers[3 * n + 1], Some(3));
        assert_eq!(markers[4 * n], Some(3));
        assert_eq!(markers[4 * n + 1], Some(0));
    }

    #[test]
    fn a_long_legend_makes_the_figure_taller_instead_of_being_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let png_height = |entries: usize| {
            let series: Vec<Series> = (0..entries)
                .map(|i| Series {
                    label: format!("series {i}"),
                    points: vec![(1.0, i as f64)],
                    lines: true,
                    intervals: Vec::new(),
                    reference: false,
                    look: None,
                })
                .collect();
            let path = dir.path().join(format!("legend-{entries}.png"));
            line_plot(&path, "t", "x", "y", &series, Axes::default()).unwrap();
            // The PNG header's IHDR chunk holds the height as a big-endian u32 at bytes 20..24.
            let png = std::fs::read(&path).unwrap();
            u32::from_be_bytes(png[20..24].try_into().unwrap())
        };
        assert_eq!(png_height(3), PLOT_HEIGHT);
        let rows = 32;
        let last_row = LEGEND_TOP + LEGEND_ROW * (rows - 1);
        assert!(png_height(rows as usize) > last_row + LEGEND_ROW / 2);
    }
}

//! The drawing pieces both plots share: the white SVG canvas, the captioned chart frame,
//! labelled lines and the legend box.

use std::path::Path;

use plotters::chart::SeriesAnno;
use plotters::coord::{CoordTranslate, Shift};
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use super::{FONT, SIZE, plot_error};
use crate::SimError;
use crate::record::RunInfo;

/// A white SVG canvas of [`SIZE`] that is written to `path` when presented.
pub(super) fn canvas(path: &Path) -> Result<DrawingArea<SVGBackend<'_>, Shift>, SimError> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    Ok(root)
}

/// A chart on `root` captioned `{scenario} — {subject} (seed {seed})`, with the margin and
/// the bottom and left label areas of every plot.
pub(super) fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    run: &RunInfo,
    subject: &str,
) -> ChartBuilder<'a, 'static, DB> {
    let title = format!("{} — {subject} (seed {})", run.scenario, run.seed);
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, (FONT, 24))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60);
    builder
}

/// Labels the series `drawn` (the result of drawing it with `style`) as `label`, with a
/// short horizontal stroke in `style` as its legend sample.
pub(super) fn label_line<DB: DrawingBackend>(
    drawn: Result<&mut SeriesAnno<'_, DB>, DrawingAreaErrorKind<std::io::Error>>,
    label: impl Into<String>,
    style: ShapeStyle,
) -> Result<(), SimError> {
    drawn
        .map_err(plot_error)?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
    Ok(())
}

/// Draws the legend of `chart`'s labelled series at `position`: a translucent white box with
/// a black border.
pub(super) fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), SimError>
where
    DB: DrawingBackend<ErrorType = std::io::Error> + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()
        .map_err(plot_error)
}

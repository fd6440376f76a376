//! [`convergence_timeline`]: how many tips the live nodes were on over the run.

use std::path::Path;

use plotters::prelude::*;

use super::series::{TimelineSeries, axis_range};
use super::style::{canvas, draw_legend, frame, label_line};
use super::{FONT, plot_error};
use crate::SimError;
use crate::record::RunRecord;

/// Colour of the distinct-tips line.
const TIPS: RGBColor = RGBColor(214, 39, 40);
/// Colour of the live-nodes line (drawn wide, under the on-best line).
const LIVE: RGBColor = RGBColor(190, 190, 190);
/// Colour of the nodes-on-best-tip line.
const ON_BEST: RGBColor = RGBColor(31, 119, 180);
/// Colour of the scenario action markers.
const MARK: RGBColor = RGBColor(44, 160, 44);
/// Label rows the action markers cycle through, so neighbouring labels do not overlap.
const MARK_ROWS: usize = 4;
/// Headroom above the data on both y axes, where the action labels go.
const HEADROOM: f64 = 1.3;

/// Draws to `path` (SVG) the timeline of the run, x in seconds since the start.
///
/// The left axis counts nodes: the live honest nodes (wide grey line) and those on the
/// most-work tip (blue line over it), so the fraction on the best tip is the blue line's
/// share of the grey one and the two coincide whenever the network agrees. The right axis
/// counts the distinct tips among the live nodes (red). Each scenario action (partition,
/// heal, kill, ...) is a dashed vertical line with its label.
pub fn convergence_timeline(record: &RunRecord, path: &Path) -> Result<(), SimError> {
    let series = TimelineSeries::of(&record.timeline);
    let (x_min, x_max) = axis_range(
        series
            .live
            .iter()
            .map(|&(t, _)| t)
            .chain(record.marks.iter().map(|m| m.t_ms / 1000.0))
            .chain([record.info.duration_ms / 1000.0]),
        1.0,
    );
    let nodes_max = (series.max_nodes() * HEADROOM).max(2.0);
    let tips_max = ((series.max_tips() + 1.0) * HEADROOM).max(3.0);

    let root = canvas(path)?;
    let mut chart = frame(&root, &record.info, "convergence")
        .right_y_label_area_size(60)
        .build_cartesian_2d(x_min..x_max, 0.0..nodes_max)
        .map_err(plot_error)?
        .set_secondary_coord(x_min..x_max, 0.0..tips_max);
    chart
        .configure_mesh()
        .x_desc("seconds since start")
        .y_desc("live honest nodes")
        .draw()
        .map_err(plot_error)?;
    chart
        .configure_secondary_axes()
        .y_desc("distinct tips")
        .draw()
        .map_err(plot_error)?;

    for (i, mark) in record.marks.iter().enumerate() {
        let t = mark.t_ms / 1000.0;
        if !t.is_finite() {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(t, 0.0), (t, nodes_max)],
                6,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(plot_error)?;
        let y = nodes_max * (0.98 - 0.045 * (i % MARK_ROWS) as f64);
        let style = (FONT, 13).into_font().color(&MARK);
        chart
            .draw_series([Text::new(format!(" {}", mark.label), (t, y), style)])
            .map_err(plot_error)?;
    }

    if !series.live.is_empty() {
        let live = LIVE.stroke_width(6);
        let line = LineSeries::new(series.live, live);
        label_line(chart.draw_series(line), "live nodes", live)?;
        let on_best = ON_BEST.stroke_width(2);
        let line = LineSeries::new(series.on_best, on_best);
        label_line(chart.draw_series(line), "nodes on the best tip", on_best)?;
        let tips = TIPS.stroke_width(2);
        let line = LineSeries::new(series.distinct_tips, tips);
        label_line(
            chart.draw_secondary_series(line),
            "distinct tips (right axis)",
            tips,
        )?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::render;
    use crate::report::fixture::sample_record;

    #[test]
    fn draws_lines_and_marks() {
        let svg = render(|path| convergence_timeline(&sample_record(), path));
        assert!(svg.matches("<polyline").count() >= 3, "{svg}");
        assert!(svg.contains("fixture — convergence (seed 42)"));
        assert!(svg.contains("partition"));
        assert!(svg.contains("heal"));
        assert!(svg.contains("distinct tips"));
        assert!(svg.contains("nodes on the best tip"));
        assert!(svg.contains("distinct tips (right axis)"));
    }

    #[test]
    fn empty_record_draws_empty_chart() {
        let svg = render(|path| convergence_timeline(&RunRecord::default(), path));
        assert!(svg.contains("convergence"));
    }
}

//! [`propagation_cdf`]: how fast blocks reached the network, as cumulative distributions.

use std::path::Path;

use plotters::prelude::*;

use super::plot_error;
use super::series::{axis_range, cdf_points};
use super::style::{canvas, draw_legend, frame, label_line};
use crate::SimError;
use crate::record::RunRecord;
use crate::report::{arrival_delays, complete_delays};

/// Colour of the per-block completion line.
const COMPLETE: RGBColor = RGBColor(31, 119, 180);
/// Colour of the per-arrival line.
const ARRIVAL: RGBColor = RGBColor(255, 127, 14);
/// Colour of the lower-bound marker.
const BOUND: RGBColor = RGBColor(214, 39, 40);

/// Draws to `path` (SVG) the CDFs of (1) each main-chain block's time until every live node
/// had it and (2) each node's import delay of a main-chain block, with x in ms and y the
/// fraction of blocks / arrivals, and a dashed vertical line at the propagation lower bound
/// when the record has one.
pub fn propagation_cdf(record: &RunRecord, path: &Path) -> Result<(), SimError> {
    let complete = cdf_points(&complete_delays(&record.blocks));
    let arrival = cdf_points(&arrival_delays(&record.blocks));
    let bound_ms = record
        .lower_bound
        .as_ref()
        .map(|b| b.bound_ms)
        .filter(|b| b.is_finite());
    let (x_min, x_max) = axis_range(
        complete
            .iter()
            .chain(&arrival)
            .map(|&(x, _)| x)
            .chain(bound_ms),
        1.0,
    );

    let root = canvas(path)?;
    let mut chart = frame(&root, &record.info, "block propagation")
        .build_cartesian_2d(x_min..x_max, 0.0..1.02)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("delay after production (ms)")
        .y_desc("fraction")
        .draw()
        .map_err(plot_error)?;

    let mut labelled = false;
    if !complete.is_empty() {
        let label = format!(
            "every live node has the block ({} blocks)",
            complete.len() / 2
        );
        let style = COMPLETE.stroke_width(2);
        let line = LineSeries::new(complete, style);
        label_line(chart.draw_series(line), label, style)?;
        labelled = true;
    }
    if !arrival.is_empty() {
        let label = format!("one node has the block ({} arrivals)", arrival.len() / 2);
        let style = ARRIVAL.stroke_width(2);
        let line = LineSeries::new(arrival, style);
        label_line(chart.draw_series(line), label, style)?;
        labelled = true;
    }
    if let Some(bound) = bound_ms {
        let style = BOUND.stroke_width(2);
        let line = DashedLineSeries::new([(bound, 0.0), (bound, 1.0)], 8, 5, style);
        let label = format!("lower bound {bound:.1} ms");
        label_line(chart.draw_series(line), label, style)?;
        labelled = true;
    }
    if labelled {
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
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
    fn draws_lines_bound_and_text() {
        let svg = render(|path| propagation_cdf(&sample_record(), path));
        // Two CDF lines plus the dashed bound segments.
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(svg.contains("fixture — block propagation (seed 42)"));
        assert!(svg.contains("lower bound 150.0 ms"));
        assert!(svg.contains("(2 blocks)"));
        assert!(svg.contains("(5 arrivals)"));
    }

    #[test]
    fn empty_record_draws_empty_chart() {
        let svg = render(|path| propagation_cdf(&RunRecord::default(), path));
        assert!(svg.contains("block propagation"));
    }

    #[test]
    fn missing_directory_is_a_plot_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("no-such-dir").join("cdf.svg");
        let err = propagation_cdf(&sample_record(), &path).expect_err("cannot write");
        assert!(matches!(err, SimError::Plot(_)), "{err:?}");
    }
}

//! [`propagation_cdf`]: how fast blocks reached the network, as cumulative distributions.

use std::path::Path;

use plotters::prelude::*;

use super::series::{axis_range, cdf_points};
use super::{FONT, SIZE, plot_error};
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

    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let title = format!(
        "{} — block propagation (seed {})",
        record.scenario, record.seed
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 24))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(60)
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
        chart
            .draw_series(LineSeries::new(complete, COMPLETE.stroke_width(2)))
            .map_err(plot_error)?
            .label(label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], COMPLETE.stroke_width(2)));
        labelled = true;
    }
    if !arrival.is_empty() {
        let label = format!("one node has the block ({} arrivals)", arrival.len() / 2);
        chart
            .draw_series(LineSeries::new(arrival, ARRIVAL.stroke_width(2)))
            .map_err(plot_error)?
            .label(label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], ARRIVAL.stroke_width(2)));
        labelled = true;
    }
    if let Some(bound) = bound_ms {
        chart
            .draw_series(DashedLineSeries::new(
                [(bound, 0.0), (bound, 1.0)],
                8,
                5,
                BOUND.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(format!("lower bound {bound:.1} ms"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], BOUND.stroke_width(2)));
        labelled = true;
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 15))
            .draw()
            .map_err(plot_error)?;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_record;

    #[test]
    fn draws_lines_bound_and_text() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("cdf.svg");
        propagation_cdf(&sample_record(), &path).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.starts_with("<svg"));
        // Two CDF lines plus the dashed bound segments.
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(svg.contains("fixture — block propagation (seed 42)"));
        assert!(svg.contains("lower bound 150.0 ms"));
        assert!(svg.contains("(2 blocks)"));
        assert!(svg.contains("(5 arrivals)"));
    }

    #[test]
    fn empty_record_draws_empty_chart() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("cdf.svg");
        propagation_cdf(&RunRecord::default(), &path).expect("drawn");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(svg.starts_with("<svg"));
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

//! SVG plots of a [`RunRecord`](crate::record::RunRecord): the block propagation CDF
//! ([`propagation_cdf`]) and the convergence timeline ([`convergence_timeline`]).
//!
//! The points are computed by the pure functions of [`series`]; the files are drawn with
//! `plotters`' SVG backend. Text is written as SVG `<text>` elements, so no font files are
//! needed. Empty records draw empty charts.

mod cdf;
pub mod series;
mod style;
mod timeline;

pub use cdf::propagation_cdf;
pub use timeline::convergence_timeline;

use crate::SimError;

/// Width and height of every plot, in pixels.
const SIZE: (u32, u32) = (1000, 620);
/// Font family of all text.
const FONT: &str = "sans-serif";

/// A drawing error as [`SimError::Plot`].
fn plot_error(error: plotters::drawing::DrawingAreaErrorKind<std::io::Error>) -> SimError {
    SimError::Plot(error)
}

/// Draws with `draw` to a file in a fresh temporary directory and returns the file's text,
/// after checking that it is an SVG document.
#[cfg(test)]
fn render(draw: impl FnOnce(&std::path::Path) -> Result<(), SimError>) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("plot.svg");
    draw(&path).expect("drawn");
    let svg = std::fs::read_to_string(&path).expect("written");
    assert!(svg.starts_with("<svg"), "{svg}");
    svg
}

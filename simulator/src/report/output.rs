//! [`write_outputs`]: the report and its plots on disk.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Report;
use crate::SimError;
use crate::plot;
use crate::record::RunRecord;

/// Name of the JSON file holding the report and the raw record.
pub const REPORT_JSON: &str = "report.json";
/// Name of the propagation CDF plot.
pub const CDF_SVG: &str = "propagation_cdf.svg";
/// Name of the convergence timeline plot.
pub const TIMELINE_SVG: &str = "convergence_timeline.svg";

/// The files [`write_outputs`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// `report.json`: `{"report": Report, "record": RunRecord}`.
    pub json: PathBuf,
    /// The propagation CDF ([`plot::propagation_cdf`]).
    pub cdf_svg: PathBuf,
    /// The convergence timeline ([`plot::convergence_timeline`]).
    pub timeline_svg: PathBuf,
}

/// The layout of `report.json`.
#[derive(Serialize)]
struct ReportFile<'a> {
    report: &'a Report,
    record: &'a RunRecord,
}

/// Creates `dir` (and its parents) and writes [`REPORT_JSON`] (pretty JSON of the report
/// and the record), [`CDF_SVG`] and [`TIMELINE_SVG`] into it.
pub fn write_outputs(record: &RunRecord, report: &Report, dir: &Path) -> Result<Outputs, SimError> {
    std::fs::create_dir_all(dir)?;
    let outputs = Outputs {
        json: dir.join(REPORT_JSON),
        cdf_svg: dir.join(CDF_SVG),
        timeline_svg: dir.join(TIMELINE_SVG),
    };
    let mut json = serde_json::to_string_pretty(&ReportFile { report, record })?;
    json.push('\n');
    std::fs::write(&outputs.json, json)?;
    plot::propagation_cdf(record, &outputs.cdf_svg)?;
    plot::convergence_timeline(record, &outputs.timeline_svg)?;
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample_record;
    use super::*;

    fn assert_svg_with_lines(path: &Path) {
        let svg = std::fs::read_to_string(path).expect("svg written");
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "not svg: {path:?}"
        );
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "no lines: {path:?}"
        );
    }

    #[test]
    fn writes_json_and_plots() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("nested").join("out");
        let record = sample_record();
        let report = Report::from_record(&record);
        let outputs = write_outputs(&record, &report, &dir).expect("outputs written");

        assert_eq!(outputs.json, dir.join("report.json"));
        let text = std::fs::read_to_string(&outputs.json).expect("json written");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert_eq!(value["report"]["scenario"], "fixture");
        assert_eq!(value["report"]["stale_blocks"], 2);
        assert_eq!(value["report"]["propagation"]["p99"], 300.0);
        assert_eq!(value["report"]["attackers_banned"], 1);
        assert_eq!(value["record"]["seed"], 42);
        assert_eq!(value["record"]["blocks"].as_array().map(Vec::len), Some(5));

        // The report half reads back as a Report.
        let back: Report =
            serde_json::from_value(value["report"].clone()).expect("report deserialises");
        assert_eq!(back.propagation, report.propagation);

        assert_svg_with_lines(&outputs.cdf_svg);
        assert_svg_with_lines(&outputs.timeline_svg);
    }

    #[test]
    fn empty_record_writes_everything() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let record = RunRecord::default();
        let report = Report::from_record(&record);
        let outputs = write_outputs(&record, &report, tmp.path()).expect("outputs written");
        let text = std::fs::read_to_string(&outputs.json).expect("json written");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid json");
        assert!(value["report"]["propagation"].is_null());
        assert!(outputs.cdf_svg.is_file());
        assert!(outputs.timeline_svg.is_file());
    }

    #[test]
    fn unwritable_dir_is_an_io_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("a-file");
        std::fs::write(&file, "x").expect("file");
        let record = RunRecord::default();
        let report = Report::from_record(&record);
        let err = write_outputs(&record, &report, &file.join("sub")).expect_err("not a dir");
        assert!(matches!(err, SimError::Io(_)), "{err:?}");
    }
}

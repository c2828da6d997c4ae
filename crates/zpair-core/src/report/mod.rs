//! The printable pairing report of a shift or a date range: the station's
//! [`PairingReport`] laid out on A4 landscape pages — title, station and
//! period, totals, then every pairing in a table that runs over as many
//! pages as it needs, each page numbered "Page n of m". The CSV of the same
//! report is the station's own (`GET /api/reports/pairings/export`), so the
//! two never disagree on what a period holds.
//!
//! Times are printed in UTC, labelled so: a report is read on other machines
//! than the one that printed it.

pub mod pdf;

use time::OffsetDateTime;
use time::macros::format_description;
use zpair_proto::admin::{PairingOutcome, PairingRecord, PairingReport};

use self::pdf::{A4_LANDSCAPE, Document, Font, MM, Page};

/// What the report's heading says besides the report itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportHeading {
    /// The station's address.
    pub station: String,
    /// Only this technician's pairings, when the report was asked so.
    pub technician: Option<String>,
    /// When it was made.
    pub generated_at: OffsetDateTime,
}

/// `2026-01-05 14:03` (UTC).
pub fn minute(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

/// `2026-01-05 14:03:27` (UTC).
pub fn second(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// A pairing's length as a person reads it: `850 ms`, `4.2 s`, `2 min 05 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, ms / 1000 % 60),
    }
}

/// `provisioned`, `failed`, `running`.
pub fn outcome(outcome: PairingOutcome) -> &'static str {
    match outcome {
        PairingOutcome::Provisioned => "provisioned",
        PairingOutcome::Failed => "failed",
        PairingOutcome::Running => "running",
    }
}

/// The totals line: how many, how they ended, the median time.
pub fn totals(report: &PairingReport) -> String {
    let running = report
        .pairings
        .iter()
        .filter(|p| p.outcome == PairingOutcome::Running)
        .count();
    let mut line = format!(
        "Pairings: {}   Provisioned: {}   Failed: {}",
        report.pairings.len(),
        report.provisioned,
        report.failed
    );
    if running > 0 {
        line.push_str(&format!("   Running: {running}"));
    }
    if let Some(median) = report.median_duration_ms {
        line.push_str(&format!(
            "   Median time to provisioned: {}",
            duration(median)
        ));
    }
    line
}

/// One column of the table: its heading, its width in points, whether it
/// is right-aligned, and its cell.
struct Column {
    heading: &'static str,
    width: f32,
    right: bool,
    cell: fn(&PairingRecord) -> String,
}

const COLUMNS: &[Column] = &[
    Column {
        heading: "Started (UTC)",
        width: 96.0,
        right: false,
        cell: |p| second(p.started_at),
    },
    Column {
        heading: "Device",
        width: 100.0,
        right: false,
        cell: |p| p.device_id.clone(),
    },
    Column {
        heading: "Label",
        width: 110.0,
        right: false,
        cell: |p| p.device_label.clone(),
    },
    Column {
        heading: "Bed",
        width: 64.0,
        right: false,
        cell: |p| p.bed_id.clone(),
    },
    Column {
        heading: "Technician",
        width: 90.0,
        right: false,
        cell: |p| p.technician.clone(),
    },
    Column {
        heading: "Outcome",
        width: 66.0,
        right: false,
        cell: |p| outcome(p.outcome).to_owned(),
    },
    Column {
        heading: "Time",
        width: 56.0,
        right: true,
        cell: |p| p.duration_ms.map(duration).unwrap_or_else(|| "-".into()),
    },
    Column {
        heading: "Tries",
        width: 40.0,
        right: true,
        cell: |p| p.attempts.to_string(),
    },
    Column {
        heading: "Failure",
        width: 0.0, // the rest of the line
        right: false,
        cell: |p| p.failure.clone().unwrap_or_default(),
    },
];

const MARGIN: f32 = 12.0 * MM;
const BODY_SIZE: f32 = 9.0;
const ROW_HEIGHT: f32 = 14.0;
const GAP: f32 = 8.0;

/// The report as a PDF file.
pub fn shift_report_pdf(report: &PairingReport, heading: &ReportHeading) -> Vec<u8> {
    let (width, height) = A4_LANDSCAPE;
    let title = "ZPair pairing report";
    let mut doc = Document::new(A4_LANDSCAPE, title);
    let usable = width - 2.0 * MARGIN;
    let fixed: f32 = COLUMNS.iter().map(|c| c.width).sum();
    let widths: Vec<f32> = COLUMNS
        .iter()
        .map(|c| {
            if c.width > 0.0 {
                c.width
            } else {
                usable - fixed
            }
        })
        .collect();
    let footer_y = MARGIN - 4.0;
    let bottom = MARGIN + 14.0;

    // The first page's heading.
    let page = doc.add_page();
    let mut y = height - MARGIN - 16.0;
    page.text(Font::Bold, 18.0, MARGIN, y, title);
    y -= 22.0;
    page.text(
        Font::Regular,
        11.0,
        MARGIN,
        y,
        &format!(
            "Period: {} to {} UTC",
            minute(report.from),
            minute(report.to)
        ),
    );
    y -= 15.0;
    let mut about = format!("Central Station: {}", heading.station);
    if let Some(technician) = &heading.technician {
        about.push_str(&format!("   Technician: {technician}"));
    }
    page.text(Font::Regular, 11.0, MARGIN, y, &about);
    y -= 15.0;
    page.text(Font::Bold, 11.0, MARGIN, y, &totals(report));
    y -= GAP + ROW_HEIGHT;

    if report.pairings.is_empty() {
        page.text(
            Font::Regular,
            11.0,
            MARGIN,
            y,
            "No pairings were started in this period.",
        );
    } else {
        table_heading(page, &widths, y);
        y -= ROW_HEIGHT;
        let mut page_index = 0;
        for (n, pairing) in report.pairings.iter().enumerate() {
            if y < bottom {
                doc.add_page();
                page_index += 1;
                y = height - MARGIN - ROW_HEIGHT;
                table_heading(&mut doc.pages_mut()[page_index], &widths, y);
                y -= ROW_HEIGHT;
            }
            let page = &mut doc.pages_mut()[page_index];
            if n % 2 == 1 {
                page.band(MARGIN, y - 4.0, usable, ROW_HEIGHT, 0.94);
            }
            table_row(page, &widths, y, pairing);
            y -= ROW_HEIGHT;
        }
    }

    let count = doc.pages_mut().len();
    let generated = format!("Generated {} UTC by ZPair", minute(heading.generated_at));
    for (i, page) in doc.pages_mut().iter_mut().enumerate() {
        page.rule(
            (MARGIN, footer_y + 10.0),
            (width - MARGIN, footer_y + 10.0),
            0.5,
        );
        page.text(Font::Regular, 8.0, MARGIN, footer_y, &generated);
        page.text_right(
            Font::Regular,
            8.0,
            width - MARGIN,
            footer_y,
            &format!("Page {} of {count}", i + 1),
        );
    }
    doc.to_bytes()
}

fn table_heading(page: &mut Page, widths: &[f32], y: f32) {
    let usable: f32 = widths.iter().sum();
    page.band(MARGIN, y - 4.0, usable, ROW_HEIGHT, 0.82);
    let mut x = MARGIN;
    for (column, width) in COLUMNS.iter().zip(widths) {
        cell(page, Font::Bold, column, x, *width, y, column.heading);
        x += width;
    }
}

fn table_row(page: &mut Page, widths: &[f32], y: f32, pairing: &PairingRecord) {
    let mut x = MARGIN;
    for (column, width) in COLUMNS.iter().zip(widths) {
        let text = (column.cell)(pairing);
        cell(page, Font::Regular, column, x, *width, y, &text);
        x += width;
    }
}

fn cell(page: &mut Page, font: Font, column: &Column, x: f32, width: f32, y: f32, text: &str) {
    let padding = 3.0;
    let text = pdf::fit(font, BODY_SIZE, text, width - 2.0 * padding);
    if column.right {
        page.text_right(font, BODY_SIZE, x + width - padding, y, &text);
    } else {
        page.text(font, BODY_SIZE, x + padding, y, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn pairing(n: usize) -> PairingRecord {
        let started = datetime!(2026-01-05 06:00 UTC) + time::Duration::seconds(n as i64 * 60);
        let failed = n % 7 == 3;
        PairingRecord {
            job_id: format!("job-{n}"),
            device_id: format!("ZM-ICU-{n:03}"),
            device_label: format!("Zoë's ward, ICU monitor {n} (east wing)"),
            bed_id: format!("BED-{n}"),
            technician: if n.is_multiple_of(2) {
                "tech"
            } else {
                "nurse.lead"
            }
            .into(),
            started_at: started,
            finished_at: Some(started + time::Duration::seconds(4)),
            duration_ms: Some(4_200),
            outcome: if failed {
                PairingOutcome::Failed
            } else {
                PairingOutcome::Provisioned
            },
            failure: failed.then(|| "code_mismatch".to_owned()),
            attempts: 1 + u32::from(n.is_multiple_of(3)),
        }
    }

    fn report(n: usize) -> PairingReport {
        let pairings: Vec<PairingRecord> = (0..n).map(pairing).collect();
        PairingReport {
            from: datetime!(2026-01-05 06:00 UTC),
            to: datetime!(2026-01-05 14:00 UTC),
            provisioned: pairings
                .iter()
                .filter(|p| p.outcome == PairingOutcome::Provisioned)
                .count() as u32,
            failed: pairings
                .iter()
                .filter(|p| p.outcome == PairingOutcome::Failed)
                .count() as u32,
            pairings,
            median_duration_ms: (n > 0).then_some(4_200),
        }
    }

    fn heading() -> ReportHeading {
        ReportHeading {
            station: "https://station.ward:8443/".into(),
            technician: None,
            generated_at: datetime!(2026-01-05 14:05 UTC),
        }
    }

    /// The text of a PDF as `pdftotext -layout` (Debian's poppler-utils)
    /// reads it: proof that a real reader takes the file, not only that the
    /// writer is consistent with itself.
    fn pdftotext(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.pdf");
        std::fs::write(&path, bytes).expect("write the PDF");
        let out = std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "pdftotext could not be run ({e}); it reads the report back in this test. \
                     Install Debian's poppler-utils (`cargo xtask bootstrap` does)."
                )
            });
        assert!(
            out.status.success(),
            "pdftotext refused the report: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 text")
    }

    /// Words separated by single spaces (pdftotext spaces words by where they sit).
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_report_of_many_pages_reads_back_with_its_totals_rows_and_page_numbers() {
        let report = report(80);
        let bytes = shift_report_pdf(&report, &heading());
        let text = pdftotext(&bytes);
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert_eq!(pages.len(), 3, "80 rows take three pages:\n{text}");
        assert!(pages[0].contains("ZPair pairing report"));
        assert!(pages[0].contains("Period: 2026-01-05 06:00 to 2026-01-05 14:00 UTC"));
        assert!(pages[0].contains("Central Station: https://station.ward:8443/"));
        assert!(
            flat(pages[0]).contains(
                "Pairings: 80 Provisioned: 69 Failed: 11 Median time to provisioned: 4.2 s"
            ),
            "{}",
            pages[0]
        );
        for (i, page) in pages.iter().enumerate() {
            assert!(page.contains(&format!("Page {} of 3", i + 1)), "{page}");
            assert!(
                page.contains("Started (UTC)"),
                "each page repeats the heading"
            );
            assert!(page.contains("Generated 2026-01-05 14:05 UTC by ZPair"));
        }
        assert!(pages[0].contains("2026-01-05 06:00:00"));
        assert!(pages[0].contains("ZM-ICU-000"));
        assert!(pages[2].contains("ZM-ICU-079"));
        for n in 0..80 {
            assert_eq!(
                text.matches(&format!("ZM-ICU-{n:03} ")).count(),
                1,
                "row {n} appears once"
            );
        }
        assert!(text.contains("code_mismatch"));
        assert!(text.contains("Zoë"), "Latin-1 text survives: {text}");
        assert!(text.contains("nurse.lead"));
    }

    #[test]
    fn an_empty_period_says_so_on_one_page() {
        let mut heading = heading();
        heading.technician = Some("tech".into());
        let text = pdftotext(&shift_report_pdf(&report(0), &heading));
        assert!(text.contains("No pairings were started in this period."));
        assert!(text.contains("Technician: tech"));
        assert!(
            flat(&text).contains("Pairings: 0 Provisioned: 0 Failed: 0"),
            "{text}"
        );
        assert!(text.contains("Page 1 of 1"));
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(4_249), "4.2 s");
        assert_eq!(duration(125_000), "2 min 05 s");
    }
}

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

// A file written into the export folder, and the rows it holds (the header
// not counted; for a PDF report, its pairings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportedFile {
    pub path: String,
    pub rows: u64,
}

// How a pairing report is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Csv,
    Pdf,
}

impl ReportFormat {
    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Pdf => "pdf",
        }
    }
}

impl From<zpair_core::admin::exports::Exported> for ExportedFile {
    fn from(exported: zpair_core::admin::exports::Exported) -> Self {
        Self {
            path: exported.path.to_string_lossy().into_owned(),
            rows: exported.rows,
        }
    }
}

/// Where exported files go: `ZPAIR_EXPORT_DIR` when set (tests, kiosks),
/// else the user's download folder, else `$HOME/Downloads`.
pub fn export_dir() -> Option<PathBuf> {
    std::env::var_os("ZPAIR_EXPORT_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::download_dir)
        .or_else(|| dirs::home_dir().map(|home| home.join("Downloads")))
}

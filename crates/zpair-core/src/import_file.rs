//! An administrator's import file, read into registration records for the
//! station's registry: a CSV sheet or the monitors' own exported JSON.
//!
//! The file is read here, on the administrator's machine, and only records
//! that could be read are sent; the lines that could not be read come back
//! as [`UnreadableRow`]s naming the line and the column, so the dry run
//! shows them beside the station's verdict on the others. Whether a record
//! is *valid* (a device ID's alphabet, a key's length, an address) is the
//! station's rule, checked there: its dry run calls such a row conflicting
//! (`invalid_record`) with the reason, so the rule lives in one place.
//!
//! **CSV**: a header row, then one monitor per row (RFC 4180: `"…"` quotes
//! commas, quotes and line breaks; `""` is a quote). Columns are found by
//! name, in any order, whatever their case, spaces or underscores
//! (`deviceId`, `Device ID`, `device_id`):
//!
//! | column | |
//! | --- | --- |
//! | `deviceId`, `deviceSerial`, `identityPublicKey` (or `identityKey`) | required |
//! | `ipAddress`, `deviceLabel`, `bedId`, `firmwareVersion` | optional, may be empty |
//!
//! A column by another name refuses the whole file: a misspelt `bedId` would
//! otherwise import every monitor without its bed. Values are trimmed; an
//! empty optional value is absent (the station then labels the monitor with
//! its device ID and leaves the bed empty). A UTF-8 byte-order mark (as
//! spreadsheets write), CRLF line endings and blank lines are accepted.
//!
//! **JSON**: one registration record as `bedside-monitor export` prints it,
//! an array of them, or several one after the other (one per line, as the
//! monitors' exports concatenated), each optionally with `deviceLabel` and
//! `bedId`. A JSON record's "line" is its position in the file, from 1.
//!
//! A record without a firmware version gets [`UNKNOWN_FIRMWARE`]: the
//! registry requires one (1 to 32 printable characters) and an inventory
//! sheet rarely knows it; the monitor reports its own when it pairs. For a
//! monitor already registered with a known version the dry run shows this
//! as a change of `firmwareVersion`, so nothing changes unseen.

use serde_json::Value;
use zpair_proto::admin::UnreadableRow;
use zpair_proto::api::DeviceImport;
use zpair_proto::device::RegistrationRecord;

use crate::error::{ErrorCode, UserFacing};

/// The firmware version of a record that gives none.
pub const UNKNOWN_FIRMWARE: &str = "unknown";

/// The largest import file read, in bytes: far above 10,000 monitors (about
/// 2 MB), and below what would make the station refuse the upload.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// How the file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Comma-separated, with a header row.
    Csv,
    /// Registration records as JSON.
    Json,
}

impl ImportFormat {
    /// `csv` or `json`, as [`zpair_proto::admin::ImportDryRun::format`] has it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Json => "json",
        }
    }

    /// By the file name's extension (`.csv`, `.json`, any case), else by the
    /// content: JSON starts with `{` or `[`, a CSV header never does.
    pub fn detect(file_name: &str, text: &str) -> Self {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("csv") => ImportFormat::Csv,
            Some("json" | "jsonl" | "ndjson") => ImportFormat::Json,
            _ if strip_bom(text).trim_start().starts_with(['{', '[']) => ImportFormat::Json,
            _ => ImportFormat::Csv,
        }
    }
}

/// One record read from the file, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// The CSV line the row starts on (from 1), or the JSON record's
    /// position (from 1).
    pub line: usize,
    /// The record as the station takes it.
    pub device: DeviceImport,
}

/// An import file read: the records to send and the lines that were not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    /// How it was read.
    pub format: ImportFormat,
    /// The records that could be read, in file order.
    pub records: Vec<ImportRecord>,
    /// The lines that could not, in file order.
    pub unreadable: Vec<UnreadableRow>,
}

impl ImportFile {
    /// The records as the station takes them, in order.
    pub fn devices(&self) -> Vec<DeviceImport> {
        self.records.iter().map(|r| r.device.clone()).collect()
    }

    /// The line of each record, in the same order.
    pub fn lines(&self) -> Vec<usize> {
        self.records.iter().map(|r| r.line).collect()
    }
}

/// Why a file could not be read at all (as opposed to one of its lines).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportFileError {
    /// Nothing in it.
    #[error(
        "The import file is empty. Choose a CSV file with a header row, or the monitors' exported JSON."
    )]
    Empty,
    /// Larger than [`MAX_FILE_BYTES`].
    #[error(
        "The import file is {bytes} bytes; at most {MAX_FILE_BYTES} are read at once. Split it into smaller files and import each."
    )]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// The CSV header lacks a required column.
    #[error(
        "The CSV header has no {column} column. The header row must name deviceId, deviceSerial and identityPublicKey (and may name ipAddress, deviceLabel, bedId, firmwareVersion)."
    )]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// The CSV header names a column ZPair does not read.
    #[error(
        "Line 1, column {letter}: \"{name}\" is not a column ZPair reads. Rename or remove it; the columns are deviceId, deviceSerial, identityPublicKey, ipAddress, deviceLabel, bedId and firmwareVersion."
    )]
    UnknownColumn {
        /// The header cell.
        name: String,
        /// Its spreadsheet letter.
        letter: String,
    },
    /// The CSV header names a column twice.
    #[error(
        "Line 1: the header names the {column} column twice (columns {first} and {second}). Keep one."
    )]
    DuplicateColumn {
        /// The column.
        column: &'static str,
        /// Spreadsheet letters of the two.
        first: String,
        /// The second one.
        second: String,
    },
    /// The CSV could not be parsed.
    #[error("Line {line}: the CSV could not be read ({reason}). Check the quotes on that line.")]
    Csv {
        /// Where.
        line: u64,
        /// What the parser said.
        reason: String,
    },
    /// The JSON could not be parsed.
    #[error(
        "Line {line}, column {column}: the JSON could not be read ({reason}). The file must hold registration records as `bedside-monitor export` prints them: one object, an array, or one object per line."
    )]
    Json {
        /// Where.
        line: usize,
        /// Where on the line.
        column: usize,
        /// What the parser said.
        reason: String,
    },
}

impl UserFacing for ImportFileError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidInput
    }
}

/// Reads `text` as the format [`ImportFormat::detect`] finds for `file_name`.
pub fn read(file_name: &str, text: &str) -> Result<ImportFile, ImportFileError> {
    match ImportFormat::detect(file_name, text) {
        ImportFormat::Csv => read_csv(text),
        ImportFormat::Json => read_json(text),
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn check_size(text: &str) -> Result<&str, ImportFileError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(ImportFileError::TooLarge { bytes: text.len() });
    }
    let text = strip_bom(text);
    if text.trim().is_empty() {
        return Err(ImportFileError::Empty);
    }
    Ok(text)
}

// ---------------------------------------------------------------- CSV

/// The columns ZPair reads, by their canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    DeviceId,
    DeviceSerial,
    IdentityPublicKey,
    IpAddress,
    DeviceLabel,
    BedId,
    FirmwareVersion,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::DeviceId,
        Column::DeviceSerial,
        Column::IdentityPublicKey,
        Column::IpAddress,
        Column::DeviceLabel,
        Column::BedId,
        Column::FirmwareVersion,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::DeviceId => "deviceId",
            Column::DeviceSerial => "deviceSerial",
            Column::IdentityPublicKey => "identityPublicKey",
            Column::IpAddress => "ipAddress",
            Column::DeviceLabel => "deviceLabel",
            Column::BedId => "bedId",
            Column::FirmwareVersion => "firmwareVersion",
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::DeviceId | Column::DeviceSerial | Column::IdentityPublicKey
        )
    }

    /// A header cell, compared without case, spaces, `_` or `-`.
    fn find(header: &str) -> Option<Column> {
        let key: String = header
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if key == "identitykey" {
            return Some(Column::IdentityPublicKey);
        }
        Column::ALL
            .into_iter()
            .find(|c| c.name().to_ascii_lowercase() == key)
    }
}

/// `A`, `B`, … `Z`, `AA`, …: how a spreadsheet names column `index` (from 0).
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// Where each column ZPair reads sits in the header.
struct Layout {
    /// `(column, position)` for each named column.
    positions: Vec<(Column, usize)>,
    width: usize,
}

impl Layout {
    fn from_header(header: &csv::StringRecord) -> Result<Self, ImportFileError> {
        let mut positions: Vec<(Column, usize)> = Vec::new();
        for (index, cell) in header.iter().enumerate() {
            let column = Column::find(cell).ok_or_else(|| ImportFileError::UnknownColumn {
                name: cell.trim().to_owned(),
                letter: column_letter(index),
            })?;
            if let Some(&(_, first)) = positions.iter().find(|(c, _)| *c == column) {
                return Err(ImportFileError::DuplicateColumn {
                    column: column.name(),
                    first: column_letter(first),
                    second: column_letter(index),
                });
            }
            positions.push((column, index));
        }
        if let Some(missing) = Column::ALL
            .into_iter()
            .filter(|c| c.required())
            .find(|c| !positions.iter().any(|(p, _)| p == c))
        {
            return Err(ImportFileError::MissingColumn {
                column: missing.name(),
            });
        }
        Ok(Self {
            positions,
            width: header.len(),
        })
    }

    /// One row as a record, or why it is not one.
    fn record(&self, row: &csv::StringRecord, line: usize) -> Result<DeviceImport, String> {
        if row.len() < self.width {
            let missing: Vec<&str> = self
                .positions
                .iter()
                .filter(|(_, at)| *at >= row.len())
                .map(|(c, _)| c.name())
                .collect();
            return Err(format!(
                "Line {line}: {} values for the header's {} columns; {} missing. Give every column a value (empty is fine for the optional ones).",
                row.len(),
                self.width,
                missing.join(", ")
            ));
        }
        if row.len() > self.width {
            return Err(format!(
                "Line {line}: {} values for the header's {} columns (from column {} on there is no header). Is a comma inside a value? Put that value in double quotes.",
                row.len(),
                self.width,
                column_letter(self.width)
            ));
        }
        let mut fields = [const { None::<String> }; Column::ALL.len()];
        for &(column, at) in &self.positions {
            let value = row.get(at).unwrap_or_default();
            if value.contains(['\n', '\r']) {
                return Err(format!(
                    "Line {line}, column {} ({}): the value runs over several lines. Is a closing double quote missing?",
                    column_letter(at),
                    column.name()
                ));
            }
            let value = value.trim();
            if value.is_empty() {
                if column.required() {
                    return Err(format!(
                        "Line {line}, column {} ({}): empty. Every monitor needs its {}.",
                        column_letter(at),
                        column.name(),
                        column.name()
                    ));
                }
                continue;
            }
            fields[column as usize] = Some(value.to_owned());
        }
        let [id, serial, key, ip, label, bed, firmware] = fields;
        Ok(DeviceImport {
            record: RegistrationRecord {
                device_id: id.unwrap_or_default(),
                device_serial: serial.unwrap_or_default(),
                identity_public_key: key.unwrap_or_default(),
                firmware_version: firmware.unwrap_or_else(|| UNKNOWN_FIRMWARE.to_owned()),
                ip_address: ip,
            },
            device_label: label,
            bed_id: bed,
        })
    }
}

/// Reads a CSV import file (see the module's documentation).
pub fn read_csv(text: &str) -> Result<ImportFile, ImportFileError> {
    let text = check_size(text)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| ImportFileError::Csv {
        line: e.position().map(csv::Position::line).unwrap_or(0),
        reason: e.to_string(),
    };
    let lines = LineIndex::new(text);
    let mut rows = reader.records();
    let header = loop {
        match rows.next() {
            Some(row) => {
                let row = row.map_err(csv_error)?;
                if !is_blank(&row) {
                    break row;
                }
            }
            None => return Err(ImportFileError::Empty),
        }
    };
    let layout = Layout::from_header(&header)?;
    let mut file = ImportFile {
        format: ImportFormat::Csv,
        records: Vec::new(),
        unreadable: Vec::new(),
    };
    for row in rows {
        let row = row.map_err(csv_error)?;
        if is_blank(&row) {
            continue;
        }
        let line = row.position().map_or(0, |p| lines.line_of(p.byte()));
        match layout.record(&row, line) {
            Ok(device) => file.records.push(ImportRecord { line, device }),
            Err(message) => file.unreadable.push(UnreadableRow { line, message }),
        }
    }
    Ok(file)
}

/// Line numbers of records. The CSV parser's position of a record is where
/// it started reading it — on the `\n` of the CRLF before it, or on the
/// blank lines it skipped — and its own line count skips blank lines; a
/// person looks up the line their editor shows, where the record's first
/// character is.
struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each `\n`.
    breaks: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            breaks: text.match_indices('\n').map(|(at, _)| at).collect(),
        }
    }

    /// The line (from 1) of the first character at or after `offset` that
    /// is not a line break or a blank.
    fn line_of(&self, offset: u64) -> usize {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let start = self
            .text
            .get(offset..)
            .and_then(|rest| rest.find(|c: char| !c.is_ascii_whitespace()))
            .map_or(offset, |skip| offset + skip);
        self.breaks.partition_point(|&at| at < start) + 1
    }
}

/// A line of only spaces (or separators): skipped like an empty one.
fn is_blank(row: &csv::StringRecord) -> bool {
    row.iter().all(|cell| cell.trim().is_empty())
}

// ---------------------------------------------------------------- JSON

/// Reads a JSON import file (see the module's documentation).
pub fn read_json(text: &str) -> Result<ImportFile, ImportFileError> {
    let text = check_size(text)?;
    let mut values = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for value in &mut stream {
        match value {
            Ok(Value::Array(items)) => values.extend(items),
            Ok(other) => values.push(other),
            Err(e) => {
                return Err(ImportFileError::Json {
                    line: e.line(),
                    column: e.column(),
                    reason: json_reason(&e),
                });
            }
        }
    }
    let mut file = ImportFile {
        format: ImportFormat::Json,
        records: Vec::new(),
        unreadable: Vec::new(),
    };
    for (index, value) in values.into_iter().enumerate() {
        let line = index + 1;
        match json_record(value) {
            Ok(device) => file.records.push(ImportRecord { line, device }),
            Err(reason) => file.unreadable.push(UnreadableRow {
                line,
                message: format!("Record {line}: {reason}"),
            }),
        }
    }
    Ok(file)
}

/// serde_json's message without its own " at line … column …" tail (the
/// error says where in its own words).
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn json_record(value: Value) -> Result<DeviceImport, String> {
    let Value::Object(mut fields) = value else {
        return Err(
            "not a registration record (an object with deviceId, deviceSerial, identityPublicKey…)."
                .into(),
        );
    };
    let no_firmware = match fields.get("firmwareVersion") {
        None | Some(Value::Null) => true,
        Some(Value::String(v)) => v.trim().is_empty(),
        Some(_) => false,
    };
    if no_firmware {
        fields.insert("firmwareVersion".into(), UNKNOWN_FIRMWARE.into());
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| {
        let reason = json_reason(&e);
        format!("{reason}.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "SFEogfOB6hLXnrHv3JPVo13JQOfBkH-VtjJvr_qAHkE";

    fn csv_file(text: &str) -> ImportFile {
        read_csv(text).expect("readable file")
    }

    fn ids(file: &ImportFile) -> Vec<(usize, &str)> {
        file.records
            .iter()
            .map(|r| (r.line, r.device.record.device_id.as_str()))
            .collect()
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_spelling() {
        let file = csv_file(&format!(
            "Bed ID,identity_key,DEVICEID,device-serial,IP Address,firmwareVersion,deviceLabel\n\
             ICU-4,{KEY},ZM-1,SN-1, 10.0.0.4 ,2.1.0,ICU monitor 4\n"
        ));
        assert!(file.unreadable.is_empty(), "{:?}", file.unreadable);
        let device = &file.records[0].device;
        assert_eq!(file.records[0].line, 2);
        assert_eq!(device.record.device_id, "ZM-1");
        assert_eq!(device.record.device_serial, "SN-1");
        assert_eq!(device.record.identity_public_key, KEY);
        assert_eq!(device.record.ip_address.as_deref(), Some("10.0.0.4"));
        assert_eq!(device.record.firmware_version, "2.1.0");
        assert_eq!(device.device_label.as_deref(), Some("ICU monitor 4"));
        assert_eq!(device.bed_id.as_deref(), Some("ICU-4"));
    }

    #[test]
    fn quoted_values_keep_commas_quotes_and_spaces() {
        let file = csv_file(&format!(
            "deviceId,deviceSerial,identityPublicKey,deviceLabel,bedId\n\
             ZM-1,SN-1,{KEY},\"Ward 3, bed \"\"A\"\"\",\"\"\n"
        ));
        let device = &file.records[0].device;
        assert_eq!(device.device_label.as_deref(), Some("Ward 3, bed \"A\""));
        assert_eq!(device.bed_id, None, "an empty optional value is absent");
        assert_eq!(device.record.ip_address, None);
        assert_eq!(device.record.firmware_version, UNKNOWN_FIRMWARE);
    }

    #[test]
    fn a_value_broken_over_lines_by_a_missing_quote_is_named() {
        let file = csv_file(&format!(
            "deviceId,deviceSerial,identityPublicKey,deviceLabel\n\
             ZM-1,SN-1,{KEY},\"Ward 3\n\
             ZM-2,SN-2,{KEY},Ward 4\n"
        ));
        assert!(file.records.is_empty());
        assert_eq!(file.unreadable.len(), 1);
        let row = &file.unreadable[0];
        assert_eq!(row.line, 2);
        assert!(
            row.message.contains("column D (deviceLabel)"),
            "{}",
            row.message
        );
        assert!(
            row.message.contains("closing double quote"),
            "{}",
            row.message
        );
    }

    #[test]
    fn missing_and_extra_values_are_unreadable_lines_naming_the_columns() {
        let file = csv_file(&format!(
            "deviceId,deviceSerial,identityPublicKey,bedId\n\
             ZM-1,SN-1,{KEY},B1\n\
             ZM-2,SN-2\n\
             ZM-3,SN-3,{KEY},Ward 3, bed 4\n\
             ZM-4,,{KEY},B4\n\
             ZM-5,SN-5,{KEY},B5\n"
        ));
        assert_eq!(ids(&file), [(2, "ZM-1"), (6, "ZM-5")]);
        let lines: Vec<usize> = file.unreadable.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        let short = &file.unreadable[0].message;
        assert!(
            short.starts_with("Line 3: 2 values for the header's 4 columns"),
            "{short}"
        );
        assert!(
            short.contains("identityPublicKey, bedId missing"),
            "{short}"
        );
        let long = &file.unreadable[1].message;
        assert!(
            long.contains("5 values") && long.contains("column E"),
            "{long}"
        );
        assert!(long.contains("double quotes"), "{long}");
        let empty = &file.unreadable[2].message;
        assert_eq!(
            empty,
            "Line 5, column B (deviceSerial): empty. Every monitor needs its deviceSerial."
        );
    }

    #[test]
    fn a_bom_crlf_and_blank_lines_are_accepted_and_lines_still_count() {
        let file = csv_file(&format!(
            "\u{feff}deviceId,deviceSerial,identityPublicKey\r\n\r\n\
             ZM-1,SN-1,{KEY}\r\n   \r\n,,\r\n\
             ZM-2,SN-2,{KEY}\r\n\r\n"
        ));
        assert_eq!(ids(&file), [(3, "ZM-1"), (6, "ZM-2")]);
        assert!(file.unreadable.is_empty(), "{:?}", file.unreadable);
        assert_eq!(file.records[1].device.record.identity_public_key, KEY);
    }

    #[test]
    fn a_header_must_name_the_required_columns_once_and_nothing_else() {
        let missing = read_csv("deviceId,deviceSerial,bedId\nZM-1,SN-1,B\n").expect_err("no key");
        assert_eq!(
            missing,
            ImportFileError::MissingColumn {
                column: "identityPublicKey"
            }
        );
        let unknown =
            read_csv("deviceId,deviceSerial,identityPublicKey,bedID2\n").expect_err("unknown");
        assert!(
            unknown
                .to_string()
                .starts_with("Line 1, column D: \"bedID2\""),
            "{unknown}"
        );
        let twice =
            read_csv("deviceId,deviceSerial,identityPublicKey,Device ID\n").expect_err("twice");
        assert!(twice.to_string().contains("columns A and D"), "{twice}");
        assert_eq!(read_csv("\u{feff}\r\n\r\n"), Err(ImportFileError::Empty));
        assert_eq!(twice.code(), ErrorCode::InvalidInput);
    }

    #[test]
    fn ten_thousand_rows_are_read_in_order_with_their_lines() {
        let mut text =
            String::from("deviceId,deviceSerial,identityPublicKey,ipAddress,deviceLabel,bedId\n");
        for i in 0..10_000 {
            text.push_str(&format!(
                "ZM-{i:05},SN-{i:05},{KEY},10.{}.{}.{},\"Ward {}, monitor {i}\",BED-{i}\n",
                i / 65_536,
                i / 256 % 256,
                i % 256,
                i / 100
            ));
        }
        let started = std::time::Instant::now();
        let file = csv_file(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(file.records.len(), 10_000);
        assert!(file.unreadable.is_empty());
        let last = file.records.last().expect("last");
        assert_eq!(last.line, 10_001);
        assert_eq!(last.device.record.device_id, "ZM-09999");
        assert_eq!(
            last.device.device_label.as_deref(),
            Some("Ward 99, monitor 9999")
        );
        assert_eq!(file.lines().len(), file.devices().len());
    }

    #[test]
    fn json_reads_one_record_an_array_or_one_per_line() {
        let record = format!(
            r#"{{"deviceId":"ZM-1","deviceSerial":"SN-1","identityPublicKey":"{KEY}","firmwareVersion":"1.0.0","ipAddress":"127.0.0.2"}}"#
        );
        let one = read_json(&record).expect("one");
        assert_eq!(one.format, ImportFormat::Json);
        assert_eq!(one.records.len(), 1);
        assert_eq!(
            one.records[0].device.record.ip_address.as_deref(),
            Some("127.0.0.2")
        );

        let labelled = format!(
            r#"[{}, {{"deviceId":"ZM-2","deviceSerial":"SN-2","identityPublicKey":"{KEY}","deviceLabel":"ICU 2","bedId":"B2","newerField":true}}, 7, {{"deviceId":"ZM-3"}}]"#,
            record
        );
        let array = read_json(&labelled).expect("array");
        assert_eq!(ids(&array), [(1, "ZM-1"), (2, "ZM-2")]);
        let second = &array.records[1].device;
        assert_eq!(second.device_label.as_deref(), Some("ICU 2"));
        assert_eq!(second.record.firmware_version, UNKNOWN_FIRMWARE);
        assert_eq!(array.unreadable.len(), 2);
        assert_eq!(array.unreadable[0].line, 3);
        assert!(
            array.unreadable[0]
                .message
                .starts_with("Record 3: not a registration record")
        );
        assert_eq!(
            array.unreadable[1].message,
            "Record 4: missing field `deviceSerial`."
        );

        let lines = format!("{record}\n{}\n", record.replace("ZM-1", "ZM-9"));
        assert_eq!(
            ids(&read_json(&lines).expect("lines")),
            [(1, "ZM-1"), (2, "ZM-9")]
        );
    }

    #[test]
    fn broken_json_names_its_line_and_column() {
        let error = read_json("[\n  {\"deviceId\": \"ZM-1\",,}\n]").expect_err("broken");
        let ImportFileError::Json { line, column, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!((*line, *column), (2, 23));
        assert!(
            error.to_string().starts_with(
                "Line 2, column 23: the JSON could not be read (key must be a string)."
            ),
            "{error}"
        );
        assert_eq!(read_json(" \n"), Err(ImportFileError::Empty));
    }

    #[test]
    fn the_format_comes_from_the_extension_then_the_content() {
        assert_eq!(
            ImportFormat::detect("monitors.CSV", "[x"),
            ImportFormat::Csv
        );
        assert_eq!(
            ImportFormat::detect("export.json", "deviceId"),
            ImportFormat::Json
        );
        assert_eq!(
            ImportFormat::detect("paste", "\u{feff} [{}]"),
            ImportFormat::Json
        );
        assert_eq!(
            ImportFormat::detect("paste", "deviceId,"),
            ImportFormat::Csv
        );
        let too_big = "x".repeat(MAX_FILE_BYTES + 1);
        assert!(matches!(
            read("a.csv", &too_big),
            Err(ImportFileError::TooLarge { .. })
        ));
    }

    #[test]
    fn spreadsheet_letters_go_past_z() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}

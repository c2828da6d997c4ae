//! CSV for the exports (the audit log, pairing reports): RFC 4180 lines,
//! and cells that a spreadsheet will not run as formulas.

use axum::body::Body;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse as _, Response};

/// The media type of an export.
pub(crate) const MEDIA_TYPE: &str = "text/csv; charset=utf-8";

/// One cell. Text a spreadsheet would read as a formula (starting with `=`,
/// `+`, `-`, `@`, a tab or a carriage return — audit rows carry what
/// clients typed, such as a refused username) gets a leading `'`; a cell
/// with a comma, quote or line break is quoted, its quotes doubled.
pub(crate) fn cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One line of cells, CRLF-terminated.
pub(crate) fn line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut line = cells
        .into_iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// `body` as a CSV download named `file_name`.
pub(crate) fn response(file_name: &str, body: Body) -> Response {
    (
        [
            (CONTENT_TYPE, MEDIA_TYPE.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_special_characters_quoted() {
        let cases = [
            ("plain", "plain"),
            ("=1+2", "'=1+2"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2", "'-2"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            (
                "=HYPERLINK(\"x\",\"y\")",
                "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"",
            ),
            ("two\nlines", "\"two\nlines\""),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(cell(text), expected, "{text:?}");
        }
        assert_eq!(line(["a", "=b", "c,d"]), "a,'=b,\"c,d\"\r\n");
    }
}

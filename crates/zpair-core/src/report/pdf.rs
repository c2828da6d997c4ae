//! A small PDF writer: pages of text and rules in the standard Helvetica
//! fonts, enough for a printable table.
//!
//! Why written here rather than taken from a crate: the shift report needs
//! text, rules, shaded bands and page numbers, nothing else. `printpdf`
//! brings font embedding, images and SVG (dozens of crates) for that;
//! `lopdf` is a general reader and editor. A PDF that only uses the 14
//! standard fonts needs no font file at all — every viewer and printer has
//! Helvetica's metrics — so the whole format here is a catalogue, a page
//! tree, two font dictionaries and one uncompressed content stream per page
//! (PDF 1.4, ISO 32000-1 §7), about 200 lines with nothing to audit or
//! update. Text is encoded in WinAnsiEncoding (Latin-1 and the usual
//! typographic marks); a character outside it prints as `?`.

use std::fmt::Write as _;

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;

/// A4 landscape, in points.
pub const A4_LANDSCAPE: (f32, f32) = (297.0 * MM, 210.0 * MM);

/// The two faces a page may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    /// The width of `byte` (WinAnsi) in thousandths of the font size, from
    /// Adobe's Helvetica and Helvetica-Bold metrics.
    fn advance(self, byte: u8) -> u16 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        match byte {
            32..=126 => table[usize::from(byte - 32)],
            // Typographic marks: dashes, ellipsis, quotes, bullet.
            0x96 => 556,
            0x97 | 0x85 => 1000,
            0x91 | 0x92 => 222,
            0x93 | 0x94 => 333,
            0x95 => 350,
            0x80 => 556,
            // Latin-1 letters are about as wide as the average lower-case one.
            _ => 556,
        }
    }
}

/// Widths of ASCII 32..=126 in Helvetica.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Widths of ASCII 32..=126 in Helvetica-Bold.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// `text` in WinAnsiEncoding; what it cannot hold becomes `?`, and control
/// characters a space.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{20ac}' => 0x80,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// How wide `text` is in `font` at `size` points.
pub fn text_width(font: Font, size: f32, text: &str) -> f32 {
    let units: u32 = win_ansi(text)
        .into_iter()
        .map(|b| u32::from(font.advance(b)))
        .sum();
    units as f32 * size / 1000.0
}

/// `text`, cut with an ellipsis to fit `width` points.
pub fn fit(font: Font, size: f32, text: &str, width: f32) -> String {
    if text_width(font, size, text) <= width {
        return text.to_owned();
    }
    let mut cut: String = text.to_owned();
    while !cut.is_empty() {
        cut.pop();
        let candidate = format!("{}\u{2026}", cut.trim_end());
        if text_width(font, size, &candidate) <= width {
            return candidate;
        }
    }
    String::new()
}

/// One page: its drawing operators, in points from the bottom-left corner.
#[derive(Debug, Clone, Default)]
pub struct Page {
    content: String,
}

impl Page {
    /// Text with its left end at `(x, y)` (the baseline).
    pub fn text(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) {
        let _ = writeln!(
            self.content,
            "BT /{} {size:.1} Tf {x:.2} {y:.2} Td ({}) Tj ET",
            font.resource(),
            escape(&win_ansi(text))
        );
    }

    /// Text with its right end at `(x, y)`.
    pub fn text_right(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) {
        self.text(font, size, x - text_width(font, size, text), y, text);
    }

    /// A straight rule `width` points thick.
    pub fn rule(&mut self, from: (f32, f32), to: (f32, f32), width: f32) {
        let _ = writeln!(
            self.content,
            "{width:.2} w {:.2} {:.2} m {:.2} {:.2} l S",
            from.0, from.1, to.0, to.1
        );
    }

    /// A rectangle filled in grey (`0` black, `1` white).
    pub fn band(&mut self, x: f32, y: f32, width: f32, height: f32, grey: f32) {
        let _ = writeln!(
            self.content,
            "q {grey:.2} g {x:.2} {y:.2} {width:.2} {height:.2} re f Q"
        );
    }
}

/// The bytes of a PDF string literal: `\`, `(` and `)` escaped, anything
/// outside printable ASCII as an octal escape, so the stream stays ASCII.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' | b'(' | b')' => {
                out.push('\\');
                out.push(char::from(b));
            }
            32..=126 => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out
}

/// A document of pages of one size.
#[derive(Debug, Clone)]
pub struct Document {
    size: (f32, f32),
    title: String,
    pages: Vec<Page>,
}

impl Document {
    /// An empty document whose pages are `size` points (width, height).
    pub fn new(size: (f32, f32), title: &str) -> Self {
        Self {
            size,
            title: title.to_owned(),
            pages: Vec::new(),
        }
    }

    /// Adds a page; returns it to draw on.
    pub fn add_page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The pages drawn so far.
    pub fn pages_mut(&mut self) -> &mut [Page] {
        &mut self.pages
    }

    /// The file: header, objects, cross-reference table, trailer.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Objects 1 catalogue, 2 page tree, 3 and 4 fonts, 5 info; then a
        // page and its content stream for each page.
        let page_id = |i: usize| 6 + 2 * i;
        let kids: Vec<String> = (0..self.pages.len())
            .map(|i| format!("{} 0 R", page_id(i)))
            .collect();
        let mut objects: Vec<String> = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} /MediaBox [0 0 {:.2} {:.2}] >>",
                kids.join(" "),
                self.pages.len(),
                self.size.0,
                self.size.1
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .into(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .into(),
            format!(
                "<< /Title ({}) /Producer (ZPair) >>",
                escape(&win_ansi(&self.title))
            ),
        ];
        for (i, page) in self.pages.iter().enumerate() {
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                page_id(i) + 1
            ));
            objects.push(format!(
                "<< /Length {} >>\nstream\n{}endstream",
                page.content.len(),
                page.content
            ));
        }
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for offset in offsets {
            let _ = writeln!(table, "{offset:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_encoded_in_win_ansi() {
        assert_eq!(escape(&win_ansi("a(b)c\\")), "a\\(b\\)c\\\\");
        assert_eq!(escape(&win_ansi("Zoë – 5 €")), "Zo\\353 \\226 5 \\200");
        assert_eq!(win_ansi("日\n"), b"? ");
    }

    #[test]
    fn widths_follow_helvetica_and_long_text_is_cut_to_fit() {
        assert!((text_width(Font::Regular, 10.0, "Hello") - 22.78).abs() < 0.01);
        assert!(text_width(Font::Bold, 10.0, "Hello") > text_width(Font::Regular, 10.0, "Hello"));
        let cut = fit(Font::Regular, 10.0, "ICU monitor in the east wing", 60.0);
        assert!(cut.ends_with('\u{2026}'), "{cut}");
        assert!(text_width(Font::Regular, 10.0, &cut) <= 60.0);
        assert_eq!(fit(Font::Regular, 10.0, "Bed 4", 60.0), "Bed 4");
    }

    #[test]
    fn the_cross_reference_table_points_at_each_object() {
        let mut doc = Document::new(A4_LANDSCAPE, "Test");
        doc.add_page().text(Font::Regular, 10.0, 10.0, 10.0, "one");
        doc.add_page().text(Font::Bold, 10.0, 10.0, 10.0, "two");
        let bytes = doc.to_bytes();
        assert!(bytes.starts_with(b"%PDF-1.4\n"));
        assert!(bytes.ends_with(b"%%EOF\n"));
        let find = |needle: &[u8]| {
            bytes
                .windows(needle.len())
                .rposition(|w| w == needle)
                .expect("present")
        };
        let xref = find(b"xref\n0 ");
        let tail = String::from_utf8(bytes[xref..].to_vec()).expect("ASCII tail");
        let start: usize = tail[tail.find("startxref\n").expect("startxref") + 10..]
            .lines()
            .next()
            .and_then(|l| l.parse().ok())
            .expect("offset");
        assert_eq!(start, xref);
        let entries: Vec<&str> = tail
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert_eq!(entries.len(), 9, "5 objects and 2 for each page");
        for (n, line) in entries.iter().enumerate() {
            let offset: usize = line[..10].parse().expect("offset");
            let expected = format!("{} 0 obj", n + 1);
            assert_eq!(&bytes[offset..offset + expected.len()], expected.as_bytes());
        }
    }
}

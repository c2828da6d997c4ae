//! YUV4MPEG2 (`.y4m`) video, the raw format Chromium's fake camera also
//! plays: a text header line, then per frame a `FRAME` line and the planes.
//! Grey is the Y plane, so a frame costs one read and no decode.
//!
//! The parser is strict — the header must name width, height and rate, and
//! every frame must be whole — and bounded: header lines are short and a
//! frame is at most the scanner's pixel limit, so a broken or hostile file
//! gives a typed error, never a panic or an unbounded allocation.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use zpair_scanner::MAX_FRAME_PIXELS;

use crate::source::{FrameRate, FrameRateError, GreyBuffer};

const MAGIC: &[u8] = b"YUV4MPEG2";
const FRAME: &[u8] = b"FRAME";
/// Longest header or frame line read; real ones are under 100 bytes.
const MAX_LINE: usize = 1024;

/// Why a Y4M file cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum Y4mError {
    /// The file does not start with `YUV4MPEG2`.
    #[error("it is not a YUV4MPEG2 (.y4m) file")]
    NotY4m,
    /// A header or frame line longer than any writer produces.
    #[error("a header line is longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// A required header field is absent.
    #[error("its header has no {0} field")]
    MissingField(char),
    /// A header field that does not parse.
    #[error("its header field {field}{value} is not valid")]
    BadField {
        /// The field letter.
        field: char,
        /// What follows it.
        value: String,
    },
    /// The header's rate is out of range.
    #[error("{0}")]
    BadRate(#[from] FrameRateError),
    /// A colour space other than 8-bit 4:2:0, 4:2:2, 4:4:4 or mono.
    #[error("its colour space {0} is not supported; convert it to 8-bit 4:2:0")]
    UnsupportedColour(String),
    /// Frames above the scanner's pixel limit.
    #[error("its frames are {width}x{height}, larger than a camera frame can be")]
    FrameTooLarge {
        /// Columns.
        width: u32,
        /// Rows.
        height: u32,
    },
    /// A frame does not start with `FRAME`.
    #[error("frame {frame} does not start with FRAME")]
    BadFrameHeader {
        /// Frame number, 0 first.
        frame: u64,
    },
    /// The file ends inside a frame.
    #[error("it ends in the middle of frame {frame}")]
    Truncated {
        /// Frame number, 0 first.
        frame: u64,
    },
    /// A header and no frames.
    #[error("it holds no frames")]
    NoFrames,
    /// Reading failed.
    #[error("reading it failed: {0}")]
    Io(#[from] io::Error),
}

/// Chroma layout, which fixes how many bytes follow the Y plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chroma {
    Mono,
    C420,
    C422,
    C444,
    C444Alpha,
}

impl Chroma {
    fn parse(value: &str) -> Result<Self, Y4mError> {
        match value {
            "420" | "420jpeg" | "420paldv" | "420mpeg2" => Ok(Self::C420),
            "422" => Ok(Self::C422),
            "444" => Ok(Self::C444),
            "444alpha" => Ok(Self::C444Alpha),
            "mono" => Ok(Self::Mono),
            other => Err(Y4mError::UnsupportedColour(other.to_owned())),
        }
    }

    /// Bytes after the Y plane.
    fn extra_bytes(self, width: u64, height: u64) -> u64 {
        let half_w = width.div_ceil(2);
        match self {
            Self::Mono => 0,
            Self::C420 => 2 * half_w * height.div_ceil(2),
            Self::C422 => 2 * half_w * height,
            Self::C444 => 2 * width * height,
            Self::C444Alpha => 3 * width * height,
        }
    }
}

/// A parsed stream header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub width: u32,
    pub height: u32,
    pub rate: FrameRate,
    pub chroma: Chroma,
}

/// Parses the stream header line (without its newline).
pub(crate) fn parse_header(line: &[u8]) -> Result<Header, Y4mError> {
    let rest = line.strip_prefix(MAGIC).ok_or(Y4mError::NotY4m)?;
    if !(rest.is_empty() || rest.starts_with(b" ")) {
        return Err(Y4mError::NotY4m);
    }
    let text = std::str::from_utf8(rest).map_err(|_| Y4mError::BadField {
        field: '?',
        value: String::from_utf8_lossy(rest).into_owned(),
    })?;
    let (mut width, mut height, mut rate) = (None, None, None);
    let mut chroma = Chroma::C420;
    for token in text.split_ascii_whitespace() {
        let mut chars = token.chars();
        let Some(field) = chars.next() else { continue };
        let value = chars.as_str();
        let bad = || Y4mError::BadField {
            field,
            value: value.to_owned(),
        };
        match field {
            'W' => width = Some(value.parse::<u32>().map_err(|_| bad())?),
            'H' => height = Some(value.parse::<u32>().map_err(|_| bad())?),
            'F' => {
                let (num, den) = value.split_once(':').ok_or_else(bad)?;
                let num = num.parse().map_err(|_| bad())?;
                let den = den.parse().map_err(|_| bad())?;
                rate = Some(FrameRate::new(num, den)?);
            }
            'C' => chroma = Chroma::parse(value)?,
            // Interlacing, pixel aspect and extensions do not change the
            // bytes per frame, but must still be well formed.
            'I' | 'A' | 'X' if !value.is_empty() => {}
            _ => return Err(bad()),
        }
    }
    let width = width.ok_or(Y4mError::MissingField('W'))?;
    let height = height.ok_or(Y4mError::MissingField('H'))?;
    let rate = rate.ok_or(Y4mError::MissingField('F'))?;
    if width == 0 || height == 0 {
        return Err(Y4mError::BadField {
            field: if width == 0 { 'W' } else { 'H' },
            value: "0".to_owned(),
        });
    }
    if u64::from(width) * u64::from(height) > MAX_FRAME_PIXELS {
        return Err(Y4mError::FrameTooLarge { width, height });
    }
    Ok(Header {
        width,
        height,
        rate,
        chroma,
    })
}

/// Reads a line of at most [`MAX_LINE`] bytes; `None` at the end of input
/// before any byte.
fn read_line<R: BufRead>(reader: &mut R, line: &mut Vec<u8>) -> Result<Option<()>, LineError> {
    line.clear();
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(LineError::Eof)
            };
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > MAX_LINE {
            let room = MAX_LINE - line.len();
            line.extend_from_slice(&chunk[..room]);
            return Err(LineError::TooLong);
        }
        line.extend_from_slice(chunk);
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(()));
        }
    }
}

enum LineError {
    Eof,
    TooLong,
    Io(io::Error),
}

impl From<io::Error> for LineError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Frames out of a Y4M stream, looping back to the first on request.
#[derive(Debug)]
pub(crate) struct Reader<R> {
    input: R,
    header: Header,
    data_start: u64,
    frame: u64,
    line: Vec<u8>,
}

impl<R: BufRead + Seek> Reader<R> {
    /// Reads and checks the header.
    pub(crate) fn new(mut input: R) -> Result<Self, Y4mError> {
        let mut line = Vec::new();
        match read_line(&mut input, &mut line) {
            Ok(Some(())) => {}
            Ok(None) => return Err(Y4mError::NotY4m),
            Err(LineError::Eof | LineError::TooLong) if !line.starts_with(MAGIC) => {
                return Err(Y4mError::NotY4m);
            }
            Err(LineError::Eof) => return Err(Y4mError::Truncated { frame: 0 }),
            Err(LineError::TooLong) => return Err(Y4mError::LineTooLong),
            Err(LineError::Io(e)) => return Err(e.into()),
        }
        let header = parse_header(&line)?;
        let data_start = input.stream_position()?;
        Ok(Self {
            input,
            header,
            data_start,
            frame: 0,
            line,
        })
    }

    pub(crate) fn header(&self) -> Header {
        self.header
    }

    /// The next frame's Y plane into `out`; `false` at a clean end of
    /// stream (after the last whole frame).
    pub(crate) fn read_frame(&mut self, out: &mut GreyBuffer) -> Result<bool, Y4mError> {
        if !self.frame_header()? {
            return Ok(false);
        }
        let (width, height) = (self.header.width, self.header.height);
        let area = u64::from(width) * u64::from(height);
        out.pixels.clear();
        let read = (&mut self.input).take(area).read_to_end(&mut out.pixels)?;
        if read as u64 != area {
            return Err(Y4mError::Truncated { frame: self.frame });
        }
        out.width = width;
        out.height = height;
        self.skip_bytes(
            self.header
                .chroma
                .extra_bytes(u64::from(width), u64::from(height)),
        )?;
        self.frame += 1;
        Ok(true)
    }

    /// Passes over the next frame; `false` at a clean end of stream.
    pub(crate) fn skip_frame(&mut self) -> Result<bool, Y4mError> {
        if !self.frame_header()? {
            return Ok(false);
        }
        let (w, h) = (u64::from(self.header.width), u64::from(self.header.height));
        self.skip_bytes(w * h + self.header.chroma.extra_bytes(w, h))?;
        self.frame += 1;
        Ok(true)
    }

    /// Back to the first frame.
    pub(crate) fn rewind(&mut self) -> Result<(), Y4mError> {
        self.input.seek(SeekFrom::Start(self.data_start))?;
        self.frame = 0;
        Ok(())
    }

    fn frame_header(&mut self) -> Result<bool, Y4mError> {
        let frame = self.frame;
        match read_line(&mut self.input, &mut self.line) {
            Ok(None) => return Ok(false),
            Ok(Some(())) => {}
            Err(LineError::Eof) => return Err(Y4mError::Truncated { frame }),
            Err(LineError::TooLong) => return Err(Y4mError::BadFrameHeader { frame }),
            Err(LineError::Io(e)) => return Err(e.into()),
        }
        let rest = self
            .line
            .strip_prefix(FRAME)
            .ok_or(Y4mError::BadFrameHeader { frame })?;
        if rest.is_empty() || rest.starts_with(b" ") {
            Ok(true)
        } else {
            Err(Y4mError::BadFrameHeader { frame })
        }
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), Y4mError> {
        let skipped = io::copy(&mut (&mut self.input).take(n), &mut io::sink())?;
        if skipped == n {
            Ok(())
        } else {
            Err(Y4mError::Truncated { frame: self.frame })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn stream(header: &str, frames: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("{header}\n").into_bytes();
        for f in frames {
            out.extend_from_slice(b"FRAME\n");
            out.extend_from_slice(f);
        }
        out
    }

    fn reader(bytes: Vec<u8>) -> Result<Reader<Cursor<Vec<u8>>>, Y4mError> {
        Reader::new(Cursor::new(bytes))
    }

    #[test]
    fn reads_the_y_plane_of_each_frame_and_loops() {
        // 2x2 4:2:0: four Y bytes, then one U and one V.
        let bytes = stream(
            "YUV4MPEG2 W2 H2 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG",
            &[&[1, 2, 3, 4, 9, 9], &[5, 6, 7, 8, 9, 9]],
        );
        let mut r = reader(bytes).expect("header");
        assert_eq!(r.header().rate, FrameRate::per_second(25).expect("rate"));
        let mut out = GreyBuffer::default();
        assert!(r.read_frame(&mut out).expect("frame 0"));
        assert_eq!(
            (out.pixels.as_slice(), out.width, out.height),
            (&[1, 2, 3, 4][..], 2, 2)
        );
        assert!(r.read_frame(&mut out).expect("frame 1"));
        assert_eq!(out.pixels, [5, 6, 7, 8]);
        assert!(!r.read_frame(&mut out).expect("end"));
        r.rewind().expect("rewind");
        assert!(r.skip_frame().expect("skip 0"));
        assert!(r.read_frame(&mut out).expect("frame 1 again"));
        assert_eq!(out.pixels, [5, 6, 7, 8]);
    }

    #[test]
    fn chroma_layouts_set_the_frame_size() {
        for (c, extra) in [("mono", 0), ("422", 4), ("444", 8), ("444alpha", 12)] {
            let mut frame = vec![7u8; 4];
            frame.extend(std::iter::repeat_n(0, extra));
            let bytes = stream(&format!("YUV4MPEG2 W2 H2 F30:1 C{c}"), &[&frame, &frame]);
            let mut r = reader(bytes).expect("header");
            let mut out = GreyBuffer::default();
            assert!(r.read_frame(&mut out).expect("frame 0"), "{c}");
            assert!(r.read_frame(&mut out).expect("frame 1"), "{c}");
            assert_eq!(out.pixels, [7; 4]);
        }
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        let header = |h: &str| reader(stream(h, &[]));
        assert!(matches!(header("P6 640 480"), Err(Y4mError::NotY4m)));
        assert!(matches!(header("YUV4MPEG2X W2"), Err(Y4mError::NotY4m)));
        assert!(matches!(
            header("YUV4MPEG2 H2 F30:1"),
            Err(Y4mError::MissingField('W'))
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 F30:1"),
            Err(Y4mError::MissingField('H'))
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 H2"),
            Err(Y4mError::MissingField('F'))
        ));
        assert!(matches!(
            header("YUV4MPEG2 Wtwo H2 F30:1"),
            Err(Y4mError::BadField { field: 'W', .. })
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 H2 F30"),
            Err(Y4mError::BadField { field: 'F', .. })
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 H2 F0:1"),
            Err(Y4mError::BadRate(_))
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 H2 F30:1 C420p10"),
            Err(Y4mError::UnsupportedColour(c)) if c == "420p10"
        ));
        assert!(matches!(
            header("YUV4MPEG2 W0 H2 F30:1"),
            Err(Y4mError::BadField { field: 'W', .. })
        ));
        assert!(matches!(
            header("YUV4MPEG2 W100000 H100000 F30:1"),
            Err(Y4mError::FrameTooLarge { .. })
        ));
        assert!(matches!(
            header("YUV4MPEG2 W2 H2 F30:1 Q9"),
            Err(Y4mError::BadField { field: 'Q', .. })
        ));
        let long = format!("YUV4MPEG2 W2 H2 F30:1 X{}", "a".repeat(2 * MAX_LINE));
        assert!(matches!(header(&long), Err(Y4mError::LineTooLong)));
        assert!(matches!(reader(Vec::new()), Err(Y4mError::NotY4m)));
        assert!(matches!(
            reader(b"YUV4MPEG2 W2 H2 F30:1".to_vec()),
            Err(Y4mError::Truncated { frame: 0 })
        ));
        assert!(matches!(
            reader(vec![b'x'; 4 * MAX_LINE]),
            Err(Y4mError::NotY4m)
        ));
    }

    #[test]
    fn truncated_and_broken_frames_are_typed_errors() {
        let head = "YUV4MPEG2 W2 H2 F30:1 Cmono";
        let mut out = GreyBuffer::default();
        let mut r = reader(stream(head, &[&[1, 2, 3]])).expect("header");
        assert!(matches!(
            r.read_frame(&mut out),
            Err(Y4mError::Truncated { frame: 0 })
        ));
        let mut bytes = stream(head, &[&[1, 2, 3, 4]]);
        bytes.extend_from_slice(b"FRAME");
        let mut r = reader(bytes).expect("header");
        assert!(r.read_frame(&mut out).expect("frame 0"));
        assert!(matches!(
            r.read_frame(&mut out),
            Err(Y4mError::Truncated { frame: 1 })
        ));
        let mut bytes = stream(head, &[]);
        bytes.extend_from_slice(b"FRAMEX\n1234");
        let mut r = reader(bytes).expect("header");
        assert!(matches!(
            r.skip_frame(),
            Err(Y4mError::BadFrameHeader { frame: 0 })
        ));
        let mut bytes = stream("YUV4MPEG2 W2 H2 F30:1", &[]);
        bytes.extend_from_slice(b"FRAME\n\x01\x02\x03\x04\x05");
        let mut r = reader(bytes).expect("header");
        assert!(matches!(
            r.read_frame(&mut out),
            Err(Y4mError::Truncated { frame: 0 })
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for a fuzz target: every prefix and a spread of
        // byte flips of a valid stream end in a frame or a typed error.
        let valid = stream("YUV4MPEG2 W4 H2 F30:1 C420", &[&[0; 12], &[1; 12]]);
        let mut inputs: Vec<Vec<u8>> = (0..valid.len()).map(|n| valid[..n].to_vec()).collect();
        for i in 0..valid.len() {
            for flip in [0x01, 0x20, 0x80, 0xff] {
                let mut v = valid.clone();
                v[i] ^= flip;
                inputs.push(v);
            }
        }
        for input in inputs {
            if let Ok(mut r) = reader(input) {
                let mut out = GreyBuffer::default();
                for _ in 0..4 {
                    match r.read_frame(&mut out) {
                        Ok(true) => {
                            let header = r.header();
                            assert_eq!((out.width, out.height), (header.width, header.height));
                            assert_eq!(
                                out.pixels.len() as u64,
                                u64::from(out.width) * u64::from(out.height)
                            );
                        }
                        Ok(false) | Err(_) => break,
                    }
                }
            }
        }
    }
}

//! A small parser for `text/event-stream` (the WHATWG server-sent events
//! format) fed with whatever chunks the network delivers.
//!
//! Written here rather than taken from a crate because it is the only part
//! of SSE the app needs (no `retry`, no automatic reconnection: the job
//! follower decides that), and a line split across two TCP reads or a CR LF
//! split between them must not create or lose events.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
}

/// Why the stream cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line or an event grew past the limit without ending.
    #[error("an event in the status stream is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
}

/// The largest line or event accepted: a job event is a few hundred bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Incremental parser: [`SseParser::push`] each chunk, collect the events.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF in the next is its pair.
    after_cr: bool,
    /// Nothing parsed yet, so a leading byte-order mark is skipped.
    started: bool,
    event: Option<String>,
    data: Option<String>,
    last_id: Option<String>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one chunk; returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut chunk = chunk;
        if !self.started && !chunk.is_empty() {
            self.started = true;
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        }
        let mut events = Vec::new();
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.end_line(&line)? {
                        events.push(event);
                    }
                }
                _ => {
                    self.after_cr = false;
                    if self.line.len() >= MAX_EVENT_BYTES {
                        return Err(SseError::TooLarge {
                            limit: MAX_EVENT_BYTES,
                        });
                    }
                    self.line.push(byte);
                }
            }
        }
        Ok(events)
    }

    fn end_line(&mut self, line: &[u8]) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                let data = self.data.get_or_insert_with(String::new);
                if data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    return Err(SseError::TooLarge {
                        limit: MAX_EVENT_BYTES,
                    });
                }
                data.push_str(value);
                data.push('\n');
            }
            // An id with NUL is ignored, as the specification says.
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let mut data = self.data.take()?;
        // Every data line added a trailing LF; the last one is not part of the data.
        data.pop();
        Some(SseEvent {
            event: event
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "message".to_owned()),
            data,
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        chunks
            .iter()
            .flat_map(|c| parser.push(c).expect("parses"))
            .collect()
    }

    fn event(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(str::to_owned),
        }
    }

    #[test]
    fn parses_named_events_with_ids() {
        let events = parse_all(&[b"event: status\nid: 7\ndata: {\"a\":1}\n\n"]);
        assert_eq!(events, [event("status", "{\"a\":1}", Some("7"))]);
    }

    #[test]
    fn events_split_anywhere_across_chunks_are_the_same() {
        let stream: &[u8] = b"event: status\r\ndata: one\r\n\r\n: keep-alive\r\n\r\nevent: status\r\ndata: two\r\n\r\n";
        let whole = parse_all(&[stream]);
        assert_eq!(
            whole,
            [event("status", "one", None), event("status", "two", None)]
        );
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(parse_all(&[a, b]), whole, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_all(&bytes), whole, "one byte at a time");
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let events = parse_all(&[b"data: first\ndata:second\ndata\ndata: \n\n"]);
        assert_eq!(events, [event("message", "first\nsecond\n\n", None)]);
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        assert!(parse_all(&[b": hello\n\n", b"event: status\n\n", b"\n\n"]).is_empty());
        // The event name of an event without data does not leak into the next one.
        let events = parse_all(&[b"event: ping\n\ndata: x\n\n"]);
        assert_eq!(events, [event("message", "x", None)]);
    }

    #[test]
    fn cr_only_line_endings_and_a_bom_are_accepted() {
        let events = parse_all(&[b"\xEF\xBB\xBFdata: a\r\rdata: b\r", b"\r"]);
        assert_eq!(
            events,
            [event("message", "a", None), event("message", "b", None)]
        );
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        assert!(parse_all(&[b"event: status\ndata: partial"]).is_empty());
    }

    #[test]
    fn ids_persist_until_changed() {
        let events = parse_all(&[b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"]);
        let ids: Vec<Option<String>> = events.into_iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [Some("1".into()), Some("1".into()), Some(String::new())]
        );
    }

    #[test]
    fn endless_lines_are_refused() {
        let mut parser = SseParser::new();
        let big = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(
            parser.push(&big),
            Err(SseError::TooLarge {
                limit: MAX_EVENT_BYTES
            })
        );
    }
}

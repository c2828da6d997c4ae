//! What the monitor shows in provisioning mode: the QR code, the pairing code
//! under it and the time left. The simulator's "screen" is the folder
//! `<data-dir>/screen/` (a PNG a camera would see, and its text), and the
//! terminal it runs in.

use std::io::Cursor;
use std::path::PathBuf;

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use time::OffsetDateTime;
use zpair_proto::{PairingCode, QrPayload};

use crate::paths::DataDir;
use crate::storage::{self, PRIVATE_FILE, StorageError};

/// The smallest side of the QR image, in pixels (the seeds' 300x300).
pub const QR_MIN_PIXELS: u32 = 300;

/// Why the screen could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    /// The payload does not fit in a QR code (it always should).
    #[error("the QR payload does not fit in a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// PNG encoding failed.
    #[error("cannot encode the QR image: {0}")]
    Image(#[from] image::ImageError),
    /// Writing the screen files failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What the monitor shows now in provisioning mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// The QR code's content.
    pub payload: QrPayload,
    /// The pairing code under it.
    pub code: PairingCode,
    /// When the code expires.
    pub expires_at: OffsetDateTime,
    /// Where the QR image is, as a camera would see it.
    pub qr_png_path: PathBuf,
}

impl Screen {
    /// The terminal rendering: the QR in half-block characters, and beside
    /// it the code and the time left at `now`.
    pub fn terminal_text(&self, now: OffsetDateTime) -> Result<String, ScreenError> {
        let code = qr(&self.payload)?;
        let art = code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build();
        let side = [
            String::new(),
            format!("Device:       {}", self.payload.device_id),
            format!("Address:      {}", self.payload.ip_address),
            String::new(),
            format!("Pairing code: {}", self.code.display()),
            String::new(),
            countdown(self.expires_at, now),
        ];
        let width = art.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (i, line) in art.lines().enumerate() {
            let pad = width.saturating_sub(line.chars().count());
            out.push_str(line);
            if let Some(text) = side.get(i) {
                out.push_str(&" ".repeat(pad + 3));
                out.push_str(text);
            }
            out.push('\n');
        }
        Ok(out)
    }
}

/// "8:45 remaining", as the seeds' expiration timer shows it.
pub fn countdown(expires_at: OffsetDateTime, now: OffsetDateTime) -> String {
    let left = (expires_at - now).whole_seconds().max(0);
    if left == 0 {
        "Expired".to_owned()
    } else {
        format!("{}:{:02} remaining", left / 60, left % 60)
    }
}

fn qr(payload: &QrPayload) -> Result<QrCode, ScreenError> {
    Ok(QrCode::with_error_correction_level(
        payload.to_json().as_bytes(),
        EcLevel::H,
    )?)
}

/// The QR code as a PNG: error correction H, at least 300 px, with its quiet zone.
pub fn render_png(payload: &QrPayload) -> Result<Vec<u8>, ScreenError> {
    let image = qr(payload)?
        .render::<image::Luma<u8>>()
        .min_dimensions(QR_MIN_PIXELS, QR_MIN_PIXELS)
        .quiet_zone(true)
        .build();
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

/// Puts `screen` on the monitor's screen folder. The PNG and the JSON are
/// each replaced atomically, so a camera never reads half an image.
pub fn show(dir: &DataDir, screen: &Screen) -> Result<(), ScreenError> {
    storage::ensure_private_dir(&dir.screen())?;
    let png = render_png(&screen.payload)?;
    storage::write_atomic(&dir.screen_qr_png(), &png, PRIVATE_FILE)?;
    storage::write_atomic(
        &dir.screen_qr_json(),
        screen.payload.to_json().as_bytes(),
        PRIVATE_FILE,
    )?;
    Ok(())
}

/// Shows a message about the last pairing (why it rolled back, or that the
/// station no longer accepts the monitor), until the next one starts.
pub fn notice(dir: &DataDir, text: &str) -> Result<(), StorageError> {
    storage::ensure_private_dir(&dir.screen())?;
    storage::write_atomic(&dir.screen_notice(), text.as_bytes(), PRIVATE_FILE)
}

/// The message shown, if any.
pub fn read_notice(dir: &DataDir) -> Result<Option<String>, StorageError> {
    storage::read_text(&dir.screen_notice())
}

/// Takes the message down: a new pairing has started.
pub fn clear_notice(dir: &DataDir) -> Result<(), StorageError> {
    storage::remove_file(&dir.screen_notice())
}

/// Blanks the screen: provisioning mode is over.
pub fn clear(dir: &DataDir) -> Result<(), StorageError> {
    storage::remove_file(&dir.screen_qr_png())?;
    storage::remove_file(&dir.screen_qr_json())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn screen(dir: &DataDir) -> Screen {
        let code = PairingCode::parse("K7P-M3X-Q9R").expect("code");
        let expires_at = datetime!(2030-01-01 10:10:00 UTC);
        Screen {
            payload: QrPayload::new(
                "ZM-1",
                "SN-1",
                "127.0.0.2".parse().expect("ip"),
                &code,
                &[7; 16],
                expires_at,
                "1.2.3",
            ),
            code,
            expires_at,
            qr_png_path: dir.screen_qr_png(),
        }
    }

    #[test]
    fn the_png_is_at_least_300_pixels_and_the_json_is_the_payload() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        let screen = screen(&dir);
        show(&dir, &screen).expect("show");
        let image = image::open(dir.screen_qr_png()).expect("png").to_luma8();
        assert!(image.width() >= QR_MIN_PIXELS && image.height() >= QR_MIN_PIXELS);
        // The quiet zone: the corner pixel is light.
        assert_eq!(image.get_pixel(0, 0).0[0], 255);
        // Error correction H, as the brief asks for a screen a camera reads at an angle.
        let code = qr(&screen.payload).expect("qr");
        assert_eq!(code.error_correction_level(), EcLevel::H);
        // A camera reading the image gets the payload back.
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        });
        let grids = prepared.detect_grids();
        let (_, text) = grids
            .first()
            .expect("a QR code in the image")
            .decode()
            .expect("decodes");
        assert_eq!(text, screen.payload.to_json());
        let json = std::fs::read_to_string(dir.screen_qr_json()).expect("json");
        assert_eq!(json, screen.payload.to_json());
        clear(&dir).expect("clear");
        assert!(!dir.screen_qr_png().exists() && !dir.screen_qr_json().exists());
    }

    #[test]
    fn the_terminal_shows_the_code_and_the_time_left() {
        let root = tempfile::tempdir().expect("temp");
        let dir = DataDir::new(root.path());
        let screen = screen(&dir);
        let text = screen
            .terminal_text(datetime!(2030-01-01 10:01:15 UTC))
            .expect("text");
        assert!(text.contains("K7P-M3X-Q9R"), "{text}");
        assert!(text.contains("8:45 remaining"), "{text}");
        assert!(text.contains('▀') || text.contains('▄') || text.contains('█'));
    }

    #[test]
    fn the_countdown_stops_at_expired() {
        let at = datetime!(2030-01-01 10:00:00 UTC);
        assert_eq!(countdown(at, at), "Expired");
        assert_eq!(countdown(at, at + time::Duration::minutes(1)), "Expired");
        assert_eq!(
            countdown(at, at - time::Duration::seconds(61)),
            "1:01 remaining"
        );
    }
}

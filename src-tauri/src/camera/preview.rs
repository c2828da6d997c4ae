//! The camera's latest preview JPEG, served to the web view on the app's own
//! `preview:` URI scheme.
//!
//! Each preview event names a frame; the Scan screen points its `<img>` at
//! that frame's URL and WebKit fetches and decodes the JPEG natively. Over a
//! Tauri channel the same bytes took an extra IPC round trip per frame (a
//! channel's large payloads are fetched back through `ipc:`), then a copy
//! into a JS ArrayBuffer and a Blob with its object URL; `cargo xtask bench
//! app` measured the difference (README, "What the app costs").

use std::sync::{Arc, Mutex, PoisonError};

use tauri::http::{Response, StatusCode, header};

/// The URI scheme the previews are served on: `preview://localhost/FRAME`
/// (`http://preview.localhost/FRAME` where the platform maps custom schemes
/// to http: Windows, Android).
pub const PREVIEW_SCHEME: &str = "preview";

/// The answer when there is no preview to serve (also before the app's
/// state exists).
pub fn not_found() -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// The preview the Scan screen was last told about, replaced whole by each
/// new one, and emptied when the camera stops.
#[derive(Debug, Default)]
pub struct PreviewShelf {
    latest: Mutex<Option<Shelved>>,
}

#[derive(Debug, Clone)]
struct Shelved {
    frame: u64,
    jpeg: Arc<[u8]>,
}

impl PreviewShelf {
    /// Puts the preview of camera frame `frame` on the shelf.
    pub fn put(&self, frame: u64, jpeg: Vec<u8>) {
        *self.lock() = Some(Shelved {
            frame,
            jpeg: jpeg.into(),
        });
    }

    /// Empties the shelf: the camera stopped, and its last picture must not
    /// be shown to the next session.
    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The answer to a `preview:` request for `path` (`/FRAME`): the latest
    /// preview when the requested frame is the latest or an older one (the
    /// screen asks late, never early), or 404 when the camera is off or
    /// the path names no frame.
    pub fn respond(&self, path: &str) -> Response<Vec<u8>> {
        let asked: Option<u64> = path.trim_start_matches('/').parse().ok();
        let latest = self.lock().clone();
        match (asked, latest) {
            (Some(asked), Some(shelved)) if asked <= shelved.frame => Response::builder()
                .header(header::CONTENT_TYPE, "image/jpeg")
                // Every frame has its own URL; none is ever asked for twice.
                .header(header::CACHE_CONTROL, "no-store")
                .body(shelved.jpeg.to_vec())
                .unwrap_or_else(|_| not_found()),
            _ => not_found(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Shelved>> {
        // Only ever replaced whole: nothing half-done after a panic.
        self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_preview_is_served_as_a_jpeg_never_cached() {
        let shelf = PreviewShelf::default();
        shelf.put(7, vec![0xFF, 0xD8, 1]);
        shelf.put(9, vec![0xFF, 0xD8, 2]);
        let response = shelf.respond("/9");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), &[0xFF, 0xD8, 2]);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[test]
    fn a_late_request_gets_the_newer_picture() {
        let shelf = PreviewShelf::default();
        shelf.put(12, vec![3]);
        assert_eq!(shelf.respond("/11").body(), &[3]);
    }

    #[test]
    fn nothing_is_served_for_a_future_frame_a_bad_path_or_a_stopped_camera() {
        let shelf = PreviewShelf::default();
        assert_eq!(shelf.respond("/0").status(), StatusCode::NOT_FOUND);
        shelf.put(3, vec![1]);
        assert_eq!(shelf.respond("/4").status(), StatusCode::NOT_FOUND);
        assert_eq!(shelf.respond("/../etc").status(), StatusCode::NOT_FOUND);
        assert_eq!(shelf.respond("/").status(), StatusCode::NOT_FOUND);
        shelf.clear();
        assert_eq!(shelf.respond("/3").status(), StatusCode::NOT_FOUND);
    }
}

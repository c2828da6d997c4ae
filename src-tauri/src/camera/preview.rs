//! The camera's latest preview JPEG, served to the web view on the app's own
//! `preview:` URI scheme.
//!
//! Each preview event names a frame; the Scan screen points its `<img>` at
//! that frame's URL and WebKit fetches and decodes the JPEG natively. Over a
//! Tauri channel the same bytes took an extra IPC round trip per frame (a
//! channel's large payloads are fetched back through `ipc:`), then a copy
//! into a JS ArrayBuffer and a Blob with its object URL; `cargo xtask bench
//! app` measured the difference (README, "What the app costs").

use tauri::http::{Response, StatusCode, header};
use zpair_camera::PreviewShelf;

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

/// The answer to a `preview:` request for `path` (`/FRAME`): the shelf's
/// latest preview when the requested frame is the latest or an older one,
/// or 404 when the camera is off or the path names no frame.
pub fn respond(shelf: &PreviewShelf, path: &str) -> Response<Vec<u8>> {
    let asked: Option<u64> = path.trim_start_matches('/').parse().ok();
    match asked.and_then(|frame| shelf.for_frame(frame)) {
        Some(jpeg) => Response::builder()
            .header(header::CONTENT_TYPE, "image/jpeg")
            // Every frame has its own URL; none is ever asked for twice.
            .header(header::CACHE_CONTROL, "no-store")
            .body(jpeg.to_vec())
            .unwrap_or_else(|_| not_found()),
        None => not_found(),
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
        let response = respond(&shelf, "/9");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), &[0xFF, 0xD8, 2]);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[test]
    fn a_late_request_gets_the_newer_picture() {
        let shelf = PreviewShelf::default();
        shelf.put(12, vec![3]);
        assert_eq!(respond(&shelf, "/11").body(), &[3]);
    }

    #[test]
    fn nothing_is_served_for_a_future_frame_a_bad_path_or_a_stopped_camera() {
        let shelf = PreviewShelf::default();
        assert_eq!(respond(&shelf, "/0").status(), StatusCode::NOT_FOUND);
        shelf.put(3, vec![1]);
        assert_eq!(respond(&shelf, "/4").status(), StatusCode::NOT_FOUND);
        assert_eq!(respond(&shelf, "/../etc").status(), StatusCode::NOT_FOUND);
        assert_eq!(respond(&shelf, "/").status(), StatusCode::NOT_FOUND);
        shelf.clear();
        assert_eq!(respond(&shelf, "/3").status(), StatusCode::NOT_FOUND);
    }
}

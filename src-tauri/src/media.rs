//! The web view's camera, for scanning with frames the UI takes itself
//! (getUserMedia): the path on platforms where Rust cannot open the camera.
//! Only the app's own pages get the camera; every other permission a page
//! could ask for (microphone, screen, location, notifications) is refused.
//! On Linux, WebKitGTK has media streams switched off until the app turns
//! them on for its window.

use tauri::webview::{PermissionKind, PermissionResponse};
use tauri::{Runtime, Url, Webview, WebviewWindow};

/// The answer to a page's permission request.
pub fn answer<R: Runtime>(webview: &Webview<R>, kind: PermissionKind) -> PermissionResponse {
    let own = webview.url().is_ok_and(|url| is_own_origin(&url));
    if own && kind == PermissionKind::Camera {
        PermissionResponse::Allow
    } else {
        tracing::warn!(?kind, own, "refused a web view permission request");
        PermissionResponse::Deny
    }
}

/// Whether `url` is one of the app's own pages: the bundled UI as each
/// platform serves it (`tauri://localhost`, `http(s)://tauri.localhost`), or
/// Vite's dev server in a development build.
pub fn is_own_origin(url: &Url) -> bool {
    let bundled = match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    };
    bundled || (tauri::is_dev() && url.scheme() == "http" && url.host_str() == Some("localhost"))
}

/// Turns on WebKitGTK's media streams for `window`, so getUserMedia exists
/// there (its permission requests then come to [`answer`]).
#[cfg(target_os = "linux")]
pub fn enable_camera<R: Runtime>(window: &WebviewWindow<R>) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{SettingsExt as _, WebViewExt as _};
        if let Some(settings) = webview.inner().settings() {
            settings.set_enable_media_stream(true);
        }
    })
}

/// Other platforms' web views have media streams on already.
#[cfg(not(target_os = "linux"))]
pub fn enable_camera<R: Runtime>(_window: &WebviewWindow<R>) -> tauri::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_own_origin;

    fn url(text: &str) -> tauri::Url {
        text.parse().expect("a URL")
    }

    #[test]
    fn only_the_bundled_ui_is_the_apps_own_origin() {
        assert!(is_own_origin(&url("tauri://localhost/index.html")));
        assert!(is_own_origin(&url("http://tauri.localhost/")));
        assert!(is_own_origin(&url("https://tauri.localhost/#/scan")));
        assert!(!is_own_origin(&url("https://tauri.localhost.example.org/")));
        assert!(!is_own_origin(&url("https://example.org/")));
        assert!(!is_own_origin(&url("tauri://evil/")));
        assert!(!is_own_origin(&url("file:///tmp/page.html")));
    }
}

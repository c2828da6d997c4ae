//! The web view's camera, for scanning with frames the UI takes itself
//! (getUserMedia): the path on platforms where Rust cannot open the camera
//! (the tablets: Android, iPadOS). Only the app's own pages get the camera;
//! every other permission a page could ask for (microphone, screen,
//! location, notifications) is refused.
//!
//! Tauri hands every system's request to [`answer`]: WebKitGTK's
//! permission-request signal on Linux, WebView2's `PermissionRequested` on
//! Windows, WKUIDelegate's media-capture decision on macOS and iOS, and
//! `WebChromeClient.onPermissionRequest` on Android (which then asks for
//! the `CAMERA` runtime permission the manifest declares). "The app's own
//! pages" is exactly the origin this system serves the bundled UI from
//! ([`bundled_origin`]), never another system's: `http://tauri.localhost`
//! is a page some local server could answer on Linux, where the app's UI is
//! `tauri://localhost`. The CSP (`default-src 'self'`) keeps frames of any
//! other origin out, so the top-level page is the one asking.
//! On Linux, WebKitGTK has media streams switched off until the app turns
//! them on for its window.

use tauri::webview::{PermissionKind, PermissionResponse};
use tauri::{Manager, Runtime, Url, Webview, WebviewWindow};
use zpair_core::platform::Platform;

/// The answer to a page's permission request.
pub fn answer<R: Runtime>(webview: &Webview<R>, kind: PermissionKind) -> PermissionResponse {
    let config = webview.app_handle().config();
    let https = config
        .app
        .windows
        .iter()
        .find(|window| window.label == webview.label())
        .is_some_and(|window| window.use_https_scheme);
    let dev_server = config.build.dev_url.as_ref().filter(|_| tauri::is_dev());
    let own = match (webview.url(), Platform::current()) {
        (Ok(url), Some(platform)) => is_own_origin(&url, platform, https, dev_server),
        _ => false,
    };
    if own && kind == PermissionKind::Camera {
        PermissionResponse::Allow
    } else {
        tracing::warn!(?kind, own, "refused a web view permission request");
        PermissionResponse::Deny
    }
}

/// An origin as scheme, host and port: custom schemes such as `tauri:`
/// have opaque origins in the URL standard, which never compare equal.
pub type Origin<'a> = (&'a str, Option<&'a str>, Option<u16>);

fn origin(url: &Url) -> Origin<'_> {
    (url.scheme(), url.host_str(), url.port_or_known_default())
}

/// Where `platform`'s web view gets the bundled UI from: Tauri's own
/// `tauri:` scheme where the web view lets an app register one (WebKit on
/// Linux, macOS and iOS), `http://tauri.localhost` where it does not
/// (WebView2 on Windows, Android's WebView), `https` there when the window
/// sets `useHttpsScheme`.
pub const fn bundled_origin(platform: Platform, https: bool) -> Origin<'static> {
    match platform {
        Platform::Linux | Platform::MacOs | Platform::Ios => ("tauri", Some("localhost"), None),
        Platform::Windows | Platform::Android if https => {
            ("https", Some("tauri.localhost"), Some(443))
        }
        Platform::Windows | Platform::Android => ("http", Some("tauri.localhost"), Some(80)),
    }
}

/// Whether `url` is one of the app's own pages on `platform`: the bundled
/// UI's origin, or the dev server a development build loads (`dev_server`,
/// given only when [`tauri::is_dev`]).
pub fn is_own_origin(url: &Url, platform: Platform, https: bool, dev_server: Option<&Url>) -> bool {
    origin(url) == bundled_origin(platform, https)
        || dev_server.is_some_and(|dev| origin(url) == origin(dev))
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
    use zpair_core::platform::Platform;

    fn url(text: &str) -> tauri::Url {
        text.parse().expect("a URL")
    }

    fn own(text: &str, platform: Platform) -> bool {
        is_own_origin(&url(text), platform, false, None)
    }

    #[test]
    fn each_system_grants_the_camera_to_its_own_origin_only() {
        for platform in [Platform::Linux, Platform::MacOs, Platform::Ios] {
            assert!(
                own("tauri://localhost/index.html", platform),
                "{platform:?}"
            );
            assert!(!own("http://tauri.localhost/", platform), "{platform:?}");
            assert!(!own("https://tauri.localhost/", platform), "{platform:?}");
        }
        for platform in [Platform::Windows, Platform::Android] {
            assert!(
                own("http://tauri.localhost/#/scan", platform),
                "{platform:?}"
            );
            assert!(!own("tauri://localhost/", platform), "{platform:?}");
            assert!(
                !own("https://tauri.localhost/", platform),
                "https only when asked"
            );
            assert!(is_own_origin(
                &url("https://tauri.localhost/"),
                platform,
                true,
                None
            ));
            assert!(!is_own_origin(
                &url("http://tauri.localhost/"),
                platform,
                true,
                None
            ));
        }
        for platform in Platform::ALL {
            for foreign in [
                "https://tauri.localhost.example.org/",
                "http://tauri.localhost:8080/",
                "https://example.org/",
                "tauri://evil/",
                "file:///tmp/page.html",
                "http://localhost:5173/",
            ] {
                assert!(!own(foreign, platform), "{foreign} on {platform:?}");
            }
        }
    }

    #[test]
    fn the_dev_server_is_own_only_when_given_and_only_its_port() {
        let dev = url("http://localhost:5173");
        assert!(is_own_origin(
            &url("http://localhost:5173/#/scan"),
            Platform::Linux,
            false,
            Some(&dev)
        ));
        assert!(!is_own_origin(
            &url("http://localhost:5174/"),
            Platform::Linux,
            false,
            Some(&dev)
        ));
        assert!(!is_own_origin(
            &url("http://localhost:5173/"),
            Platform::Linux,
            false,
            None
        ));
    }

    #[test]
    fn no_window_changes_the_scheme_the_origin_check_expects() {
        // answer() reads useHttpsScheme per window; the shipped windows keep
        // Tauri's default, so the origins above are the ones shipped.
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json");
        for window in conf["app"]["windows"].as_array().expect("windows") {
            assert!(window.get("useHttpsScheme").is_none(), "{window}");
        }
    }
}

//! How the web view draws. WebKitGTK composites pages with OpenGL; on a
//! machine with no GPU that GL is Mesa's software rasteriser, and every
//! change on screen then costs the CPU twice over. `cargo xtask bench app`
//! measured it under Xvfb with the Scan screen's 10 fps preview: the web
//! process used 38 % of a core with compositing and 9 % without, kept
//! working for seconds after the camera stopped, and held 80 MiB more.
//! So where the kernel offers no GPU render node, the app turns hardware
//! acceleration off for its window; with a GPU, WebKit's default stays.

use std::path::Path;

use tauri::{Runtime, WebviewWindow};

/// Where Linux lists GPU render nodes (`renderD128`, …).
#[cfg(target_os = "linux")]
const DRI_DIR: &str = "/dev/dri";

/// Whether `dri` (the `/dev/dri` folder) lists a GPU render node.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Draws `window` without GL when the machine has no GPU.
#[cfg(target_os = "linux")]
pub fn fit_to_machine<R: Runtime>(window: &WebviewWindow<R>) -> tauri::Result<()> {
    if has_render_node(Path::new(DRI_DIR)) {
        return Ok(());
    }
    tracing::info!("no GPU render node: the web view draws without hardware acceleration");
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

/// Other platforms' web views pick their own way to draw.
#[cfg(not(target_os = "linux"))]
pub fn fit_to_machine<R: Runtime>(_window: &WebviewWindow<R>) -> tauri::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::has_render_node;

    #[test]
    fn a_gpu_is_a_render_node_in_dri() {
        let dri = tempfile::tempdir().expect("temp dir");
        assert!(!has_render_node(dri.path()), "empty");
        std::fs::write(dri.path().join("card0"), "").expect("card0");
        assert!(
            !has_render_node(dri.path()),
            "a display card alone renders nothing"
        );
        std::fs::write(dri.path().join("renderD128"), "").expect("renderD128");
        assert!(has_render_node(dri.path()));
        assert!(
            !has_render_node(&dri.path().join("missing")),
            "no /dev/dri at all"
        );
    }
}

//! Every system's Tauri configuration, checked on this machine.
//!
//! `tauri.conf.json` holds what all systems share; `tauri.<os>.conf.json`
//! what one adds (JSON Merge Patch, RFC 7396, merged by the Tauri CLI for
//! the system it builds for). A Linux build only ever merges the Linux file,
//! so the tests here read each system's configuration with Tauri's own
//! loader (`tauri_utils::config::parse::read_from`) and its own types
//! (`Config`, which refuses unknown fields), and check what each system
//! needs to ship the app: its bundles, the camera's usage text and
//! entitlement, the notices, the icons generated from `icons/icon.svg`.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use tauri::utils::config::parse::read_from;
    use tauri::utils::config::{BundleResources, BundleTarget, BundleType, Config};
    use tauri::utils::platform::Target;

    const ALL: [Target; 5] = [
        Target::Linux,
        Target::Windows,
        Target::MacOS,
        Target::Ios,
        Target::Android,
    ];

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// `target`'s configuration as the Tauri CLI builds with it.
    fn config(target: Target) -> (Config, Vec<PathBuf>) {
        let (value, files) = read_from(target, &dir())
            .unwrap_or_else(|e| panic!("{target}'s configuration does not read: {e}"));
        let config: Config = serde_json::from_value(value)
            .unwrap_or_else(|e| panic!("{target}'s configuration is not Tauri's: {e}"));
        (config, files)
    }

    fn bundles(config: &Config) -> Vec<BundleType> {
        match &config.bundle.targets {
            BundleTarget::List(list) => list.clone(),
            other => panic!("bundle targets must be listed per system, not {other:?}"),
        }
    }

    fn read(relative: &str) -> String {
        let path = dir().join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn every_system_has_its_own_file_and_it_validates() {
        for target in ALL {
            let (config, files) = config(target);
            assert_eq!(files.len(), 2, "{target}: tauri.conf.json and its own file");
            assert_eq!(config.identifier, "com.zpair.app", "{target}");
            assert_eq!(config.product_name.as_deref(), Some("ZPair"), "{target}");
        }
    }

    #[test]
    fn each_desktop_builds_its_own_packages() {
        use BundleType::{App, Deb, Dmg, Msi, Nsis, Rpm};
        assert_eq!(bundles(&config(Target::Linux).0), [Deb, Rpm]);
        assert_eq!(bundles(&config(Target::Windows).0), [Msi, Nsis]);
        assert_eq!(bundles(&config(Target::MacOS).0), [App, Dmg]);
    }

    #[test]
    fn every_package_carries_the_notices() {
        let notices = Path::new("../ui/third-party/THIRD-PARTY-NOTICES.txt");
        assert!(dir().join(notices).is_file(), "the notices exist");
        let linux = config(Target::Linux).0.bundle.linux;
        for files in [&linux.deb.files, &linux.rpm.files] {
            assert_eq!(
                files.get(Path::new("/usr/share/doc/zpair/THIRD-PARTY-NOTICES.txt")),
                Some(&notices.to_path_buf())
            );
        }
        for target in [Target::Windows, Target::MacOS] {
            let Some(BundleResources::Map(resources)) = config(target).0.bundle.resources else {
                panic!("{target}: the notices as a resource");
            };
            assert_eq!(
                resources
                    .get(notices.to_str().expect("utf-8"))
                    .map(String::as_str),
                Some("THIRD-PARTY-NOTICES.txt"),
                "{target}"
            );
        }
    }

    #[test]
    fn apple_systems_say_why_they_ask_for_the_camera() {
        let macos = config(Target::MacOS).0.bundle.macos;
        let plist = macos.info_plist.expect("a macOS Info.plist");
        let entitlements = macos.entitlements.expect("macOS entitlements");
        assert!(
            macos.hardened_runtime,
            "notarisation needs the hardened runtime"
        );
        let entitlements = read(&entitlements);
        assert!(entitlements.contains("<key>com.apple.security.device.camera</key>\n  <true/>"));
        // Nothing else is asked for.
        assert_eq!(entitlements.matches("<key>").count(), 1, "{entitlements}");
        let ios = config(Target::Ios).0.bundle.ios;
        for plist in [plist, ios.info_plist.expect("an iOS Info.plist")] {
            let text = read(plist.to_str().expect("utf-8"));
            let usage = text
                .split("<key>NSCameraUsageDescription</key>")
                .nth(1)
                .and_then(|rest| rest.split("</string>").next())
                .unwrap_or_else(|| panic!("{} has no camera usage text", plist.display()));
            assert!(usage.contains("QR code"), "{usage}");
        }
    }

    #[test]
    fn android_declares_the_camera_and_matches_the_app() {
        let manifest = read("gen/android/app/src/main/AndroidManifest.xml");
        assert!(
            manifest.contains(r#"<uses-permission android:name="android.permission.CAMERA" />"#)
        );
        // A tablet without a camera still installs: codes can be typed.
        assert!(manifest.contains(
            r#"<uses-feature android:name="android.hardware.camera.any" android:required="false" />"#
        ));
        let gradle = read("gen/android/app/build.gradle.kts");
        let (config, _) = config(Target::Android);
        assert!(gradle.contains(&format!("applicationId = \"{}\"", config.identifier)));
        assert!(gradle.contains(&format!(
            "minSdk = {}",
            config.bundle.android.min_sdk_version
        )));
    }

    #[test]
    fn the_icons_are_those_icons_svg_makes_for_every_system() {
        let (config, _) = config(Target::Linux);
        let icons = config.bundle.icon;
        for (system, icon) in [
            ("Windows", "../icons/icon.ico"),
            ("macOS", "../icons/icon.icns"),
            ("Linux", "../icons/128x128.png"),
        ] {
            assert!(icons.iter().any(|i| i == icon), "{system}: {icon} listed");
        }
        for icon in &icons {
            assert!(dir().join(icon).is_file(), "{icon}");
        }
        // The Android project's launcher icons are the generated ones.
        let generated = dir().join("../icons/android");
        for density in ["mdpi", "hdpi", "xhdpi", "xxhdpi", "xxxhdpi"] {
            for name in [
                "ic_launcher.png",
                "ic_launcher_round.png",
                "ic_launcher_foreground.png",
            ] {
                let relative = format!("mipmap-{density}/{name}");
                let ours = std::fs::read(generated.join(&relative)).expect("generated icon");
                let shipped =
                    std::fs::read(dir().join("gen/android/app/src/main/res").join(&relative))
                        .expect("the Android project's icon");
                assert!(ours == shipped, "{relative} differs from icons/android");
            }
        }
    }
}

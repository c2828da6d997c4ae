//! The operating systems ZPair is built for, named once: the secret store
//! and the app's web-view origin each decide by it, in plain functions that
//! are tested here for every system.

/// An operating system the app is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux desktops (the `.deb` and `.rpm`).
    Linux,
    /// Windows desktops and tablets.
    Windows,
    /// macOS.
    MacOs,
    /// iOS and iPadOS.
    Ios,
    /// Android tablets.
    Android,
}

impl Platform {
    /// Every system the app is built for, for tests that cover them all.
    pub const ALL: [Self; 5] = [
        Self::Linux,
        Self::Windows,
        Self::MacOs,
        Self::Ios,
        Self::Android,
    ];

    /// The system this build runs on, or `None` for one the app does not support.
    #[must_use]
    pub const fn current() -> Option<Self> {
        if cfg!(target_os = "linux") {
            Some(Self::Linux)
        } else if cfg!(target_os = "windows") {
            Some(Self::Windows)
        } else if cfg!(target_os = "macos") {
            Some(Self::MacOs)
        } else if cfg!(target_os = "ios") {
            Some(Self::Ios)
        } else if cfg!(target_os = "android") {
            Some(Self::Android)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Platform;

    #[test]
    #[cfg(target_os = "linux")]
    fn this_build_knows_its_system() {
        assert_eq!(Platform::current(), Some(Platform::Linux));
    }
}

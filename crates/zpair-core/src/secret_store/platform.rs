//! Which system store keeps the sign-in, per operating system.
//!
//! The choice is [`choose`], plain logic over the [`Platform`] and one fact
//! about the desktop session, so it is tested here for every system; the
//! store it names is built beside it by [`open`], one `cfg` branch per
//! system, each with its own maintained keyring-core store crate:
//!
//! | system  | store | crate | ends |
//! | --- | --- | --- | --- |
//! | Linux, desktop with a Secret Service session collection | that collection | `dbus-secret-service` | at logout (never on disk) |
//! | Linux, otherwise | the kernel's session keyring | `linux-keyutils-keyring-store` | at logout |
//! | Windows | Credential Manager, `Session` persistence | `windows-native-keyring-store` | at logoff |
//! | macOS | the login keychain | `apple-native-keyring-store` (`keychain`) | at sign-out in the app or session expiry |
//! | iOS / iPadOS | the data-protection keychain, this device only | `apple-native-keyring-store` (`protected`) | same |
//! | Android | Keystore-encrypted preferences | `android-native-keyring-store` | same |
//!
//! The Apple and Android stores have no per-login lifetime to ask for: there
//! the session lasts until the technician signs out or the station ends it.

use std::collections::HashMap;
use std::sync::Arc;

use keyring_core::CredentialStore;

use super::SecretStoreError;
use crate::platform::Platform;

/// The store a sign-in is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// The Secret Service's `session` collection (GNOME Keyring): in memory,
    /// gone when the desktop session ends.
    SecretServiceSession,
    /// The kernel's session keyring, never linked into the persistent one.
    KeyutilsSession,
    /// Windows Credential Manager with `Session` persistence.
    WindowsCredentialManager,
    /// The macOS login keychain.
    MacKeychain,
    /// The iOS data-protection keychain, this device only.
    IosKeychain,
    /// Android's Keystore-encrypted shared preferences.
    AndroidKeystore,
}

impl StoreKind {
    /// What Settings shows after "Sign-in kept in:".
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::SecretServiceSession => {
                "the desktop keyring's session collection (ends at logout)"
            }
            Self::KeyutilsSession => "the kernel's session keyring (ends at logout)",
            Self::WindowsCredentialManager => {
                "Windows Credential Manager, this logon session only (ends at sign-out)"
            }
            Self::MacKeychain => "the macOS login keychain",
            Self::IosKeychain => "the iOS keychain, this device only",
            Self::AndroidKeystore => "Android Keystore",
        }
    }

    /// The entry modifiers this store is given for every secret (see the
    /// store crates' `build`): the session lifetime on Windows, never
    /// leaving the device on iOS.
    pub(super) const fn modifiers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::WindowsCredentialManager => &[("persistence", "Session")],
            Self::IosKeychain => &[("access-policy", "WhenUnlockedThisDeviceOnly")],
            _ => &[],
        }
    }
}

/// The store for `platform`. On Linux, `secret_service_session` says
/// whether the desktop session offers a Secret Service with a `session`
/// collection (GNOME Keyring does; KWallet and KeePassXC do not): that
/// collection when it does, the kernel's session keyring otherwise. Both end
/// with the login session, unlike the Secret Service's default collection,
/// which is written to disk.
#[must_use]
pub const fn choose(platform: Platform, secret_service_session: bool) -> StoreKind {
    match platform {
        Platform::Linux if secret_service_session => StoreKind::SecretServiceSession,
        Platform::Linux => StoreKind::KeyutilsSession,
        Platform::Windows => StoreKind::WindowsCredentialManager,
        Platform::MacOs => StoreKind::MacKeychain,
        Platform::Ios => StoreKind::IosKeychain,
        Platform::Android => StoreKind::AndroidKeystore,
    }
}

/// The store this system keeps secrets in, opened, with its kind.
pub(super) struct Opened {
    pub kind: StoreKind,
    pub store: Arc<CredentialStore>,
}

impl Opened {
    /// The modifiers for an entry of this store, as keyring-core takes them.
    pub fn modifiers(&self) -> HashMap<&'static str, &'static str> {
        self.kind.modifiers().iter().copied().collect()
    }
}

fn unavailable(store: StoreKind, e: impl std::fmt::Display) -> SecretStoreError {
    SecretStoreError::Unavailable {
        reason: format!("{} did not open: {e}", store.label()),
    }
}

/// Linux: the Secret Service's session collection when the desktop session
/// has one, else the kernel's session keyring.
#[cfg(target_os = "linux")]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    let collection = super::secret_service::SessionCollection::open();
    if let Err(why) = &collection {
        tracing::debug!(%why, "no Secret Service session collection; using the kernel keyring");
    }
    let kind = choose(Platform::Linux, collection.is_ok());
    let store: Arc<CredentialStore> = match collection {
        Ok(collection) if kind == StoreKind::SecretServiceSession => collection,
        _ => super::keyutils_session::SessionKeyring::new().map_err(|e| unavailable(kind, e))?,
    };
    Ok(Opened { kind, store })
}

/// Windows: Credential Manager (each entry with `Session` persistence).
#[cfg(target_os = "windows")]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    let kind = choose(Platform::Windows, false);
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(|e| unavailable(kind, e))?;
    Ok(Opened { kind, store })
}

/// macOS: the login keychain. The data-protection keychain would need a
/// provisioning profile, which a Developer ID build for hospitals has not.
#[cfg(target_os = "macos")]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    let kind = choose(Platform::MacOs, false);
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(|e| unavailable(kind, e))?;
    Ok(Opened { kind, store })
}

/// iOS and iPadOS: the data-protection keychain, the only one there.
#[cfg(target_os = "ios")]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    let kind = choose(Platform::Ios, false);
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::protected::Store::new().map_err(|e| unavailable(kind, e))?;
    Ok(Opened { kind, store })
}

/// Android: the Keystore-backed store (Tauri's runtime has set up the NDK
/// context it reads the app's context from before any command runs).
#[cfg(target_os = "android")]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    let kind = choose(Platform::Android, false);
    let config = HashMap::from([("name", "zpair")]);
    let store: Arc<CredentialStore> =
        android_native_keyring_store::Store::new_with_configuration(&config)
            .map_err(|e| unavailable(kind, e))?;
    Ok(Opened { kind, store })
}

/// Anything else has no store, and says so; nothing falls back to a file.
#[cfg(not(any(
    target_os = "linux",
    target_os = "windows",
    target_os = "macos",
    target_os = "ios",
    target_os = "android"
)))]
pub(super) fn open() -> Result<Opened, SecretStoreError> {
    Err(SecretStoreError::Unavailable {
        reason: format!(
            "no system keyring support is built for {}",
            std::env::consts::OS
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_system_has_its_own_store() {
        assert_eq!(
            choose(Platform::Windows, false),
            StoreKind::WindowsCredentialManager
        );
        assert_eq!(choose(Platform::MacOs, false), StoreKind::MacKeychain);
        assert_eq!(choose(Platform::Ios, false), StoreKind::IosKeychain);
        assert_eq!(choose(Platform::Android, false), StoreKind::AndroidKeystore);
        let kinds: std::collections::HashSet<StoreKind> =
            Platform::ALL.iter().map(|p| choose(*p, false)).collect();
        assert_eq!(
            kinds.len(),
            Platform::ALL.len(),
            "no two systems share a store"
        );
    }

    #[test]
    fn linux_uses_the_secret_service_only_with_a_session_collection() {
        assert_eq!(
            choose(Platform::Linux, true),
            StoreKind::SecretServiceSession
        );
        assert_eq!(choose(Platform::Linux, false), StoreKind::KeyutilsSession);
    }

    #[test]
    fn only_linux_asks_the_desktop_session() {
        for platform in Platform::ALL.into_iter().filter(|p| *p != Platform::Linux) {
            assert_eq!(
                choose(platform, true),
                choose(platform, false),
                "{platform:?}"
            );
        }
    }

    #[test]
    fn windows_keeps_the_sign_in_for_this_logon_only() {
        // Credential Manager's default, Enterprise, roams with the profile
        // and outlives logoff.
        let modifiers = StoreKind::WindowsCredentialManager.modifiers();
        assert_eq!(modifiers, &[("persistence", "Session")]);
        assert_eq!(
            StoreKind::IosKeychain.modifiers(),
            &[("access-policy", "WhenUnlockedThisDeviceOnly")]
        );
        assert!(StoreKind::KeyutilsSession.modifiers().is_empty());
    }

    /// The body of the `open` that `cfg(target_os = "…")` compiles, from
    /// this file's source: the branches other systems compile cannot run
    /// here, but each must build its own system's store.
    fn open_for(os: &str) -> &'static str {
        let source = include_str!("platform.rs");
        let head = format!("#[cfg(target_os = \"{os}\")]\npub(super) fn open()");
        let start = source
            .find(&head)
            .unwrap_or_else(|| panic!("no `open` for {os}"));
        let body = &source[start..];
        &body[..body.find("\n}\n").expect("the function ends")]
    }

    #[test]
    fn every_cfg_branch_builds_its_systems_store() {
        for (os, platform, needles) in [
            (
                "linux",
                "Platform::Linux",
                &[
                    "secret_service::SessionCollection",
                    "keyutils_session::SessionKeyring",
                ][..],
            ),
            (
                "windows",
                "Platform::Windows",
                &["windows_native_keyring_store::Store::new()"][..],
            ),
            (
                "macos",
                "Platform::MacOs",
                &["apple_native_keyring_store::keychain::Store::new()"][..],
            ),
            (
                "ios",
                "Platform::Ios",
                &["apple_native_keyring_store::protected::Store::new()"][..],
            ),
            (
                "android",
                "Platform::Android",
                &["android_native_keyring_store::Store::new_with_configuration"][..],
            ),
        ] {
            let body = open_for(os);
            assert!(
                body.contains(&format!("choose({platform}")),
                "{os} asks choose()"
            );
            for needle in needles {
                assert!(body.contains(needle), "{os}'s open() builds {needle}");
            }
        }
        // And each store crate is a dependency on its system only.
        let manifest = include_str!("../../Cargo.toml");
        for (os, dependency) in [
            ("linux", "linux-keyutils-keyring-store.workspace"),
            ("linux", "dbus-secret-service.workspace"),
            ("windows", "windows-native-keyring-store.workspace"),
            (
                "macos",
                "apple-native-keyring-store = { workspace = true, features = [\"keychain\"] }",
            ),
            (
                "ios",
                "apple-native-keyring-store = { workspace = true, features = [\"protected\"] }",
            ),
            ("android", "android-native-keyring-store.workspace"),
        ] {
            let section = format!("[target.'cfg(target_os = \"{os}\")'.dependencies]");
            let start = manifest
                .find(&section)
                .unwrap_or_else(|| panic!("no {section}"));
            let rest = &manifest[start + section.len()..];
            let body = &rest[..rest.find("\n[").unwrap_or(rest.len())];
            assert!(body.contains(dependency), "{os}: {dependency}");
        }
    }
}

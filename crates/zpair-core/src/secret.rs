//! A wrapper for values that must never reach a log, a screen or a file by
//! accident: tokens, passwords, the QR's pairing token (GitButler's
//! `but-secret`).
//!
//! `Debug` and `Display` print `<redacted>`, there is deliberately no
//! `Serialize` implementation (a test checks that at compile time), and the
//! value is overwritten with zeros when dropped. Reading it takes an explicit
//! [`Secret::expose`], which is easy to search for in review.

use std::fmt;

use subtle::ConstantTimeEq as _;
use zeroize::Zeroize;
use zpair_proto::Redacted;

/// A value that prints as `<redacted>`, cannot be serialised and is zeroed on drop.
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value. Every call is a place a secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// A secret received on the wire, kept: it moves from one wrapper to the
/// other without an unwrapped copy in between.
impl<T: Zeroize + Default> From<Redacted<T>> for Secret<T> {
    fn from(value: Redacted<T>) -> Self {
        Self(value.into_inner())
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Compared in constant time, so comparing a guess with a token leaks no
/// prefix length.
impl<T: Zeroize + AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().ct_eq(other.0.as_ref()).into()
    }
}

impl<T: Zeroize + AsRef<[u8]>> Eq for Secret<T> {}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when `T: Serialize` (the `static_assertions`
    /// `assert_not_impl_any!` technique): with a `Serialize` impl both blanket
    /// impls apply and the call below becomes ambiguous.
    trait AmbiguousIfSerialize<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSerialize<()> for T {}
    #[allow(dead_code)]
    struct IsSerialize;
    impl<T: ?Sized + serde::Serialize> AmbiguousIfSerialize<IsSerialize> for T {}

    #[test]
    fn secrets_cannot_be_serialised() {
        <Secret<String> as AmbiguousIfSerialize<_>>::check();
        <Secret<[u8; 16]> as AmbiguousIfSerialize<_>>::check();
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new(String::from("hunter2"));
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Secret<String>,
        }
        let holder = Holder {
            token: secret.clone(),
        };
        assert!(!format!("{holder:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn equality_compares_the_values() {
        assert_eq!(Secret::new([1u8; 16]), Secret::new([1u8; 16]));
        assert_ne!(Secret::new([1u8; 16]), Secret::new([2u8; 16]));
        assert_ne!(
            Secret::new(String::from("ab")),
            Secret::new(String::from("abc"))
        );
    }
}

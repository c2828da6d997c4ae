//! [`Redacted`]: a secret that crosses the wire (a password, a token, a
//! pairing code) but must never reach a log by way of `{:?}`.
//!
//! Request and response types derive `Debug` so that they can be traced;
//! wrapping their secret fields in [`Redacted`] keeps those fields out of the
//! trace without a hand-written `Debug` for each type, which would silently
//! print a secret the day someone adds a field and forgets to redact it.
//!
//! It is the wire counterpart of `zpair_core::secret::Secret`, which
//! deliberately cannot be serialised: a [`Redacted`] is meant to be
//! serialised, exactly as its value would be (`#[serde(transparent)]`).

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// A value that serialises as itself but prints as `<redacted>` in `Debug`
/// and is overwritten with zeros when dropped.
///
/// - **Wire format**: `#[serde(transparent)]`, so `Redacted<String>` is a
///   plain JSON string and wrapping a field changes no byte on the wire.
/// - **No `Display`, no `Deref`**: reading the value takes
///   [`Redacted::expose`] or [`Redacted::into_inner`], explicit calls that are
///   easy to search for in review; there is no `format!("{}")` or
///   auto-deref by which it can slip into a message.
/// - **No `PartialEq`**: comparing a presented token with an expected one
///   must be constant-time (or, as the station does, compare hashes);
///   `==` on the wrapper would invite a timing leak.
/// - **Zeroed on drop, hence `T: Zeroize` on the type**: Rust does not allow
///   a `Drop` impl to be conditional on a bound the type does not carry
///   (E0367), so "zeroize only if `T: Zeroize`" is not expressible; the
///   bound is required instead, and every secret on the wire is a `String`,
///   which is `Zeroize`. Wiping is best effort, not a guarantee: buffers the
///   HTTP stack and the JSON parser used on the way (and any reallocation of
///   the string before it was wrapped) are not reached by it. Because the
///   type implements `Drop`, a field cannot be moved out of it:
///   [`Redacted::into_inner`] takes the value and leaves `T::default()`
///   behind, all in safe code.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted<T: Zeroize>(T);

impl<T: Zeroize> Redacted<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value. Every call is a place a secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize + Default> Redacted<T> {
    /// Takes the value out, for a holder with a longer life (a
    /// `zpair_core::secret::Secret`, say); wiping it is then the caller's
    /// business. The emptied wrapper is still zeroed when dropped.
    pub fn into_inner(mut self) -> T {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// `"text".into()` at call sites and in tests, as for a `String` field.
impl From<&str> for Redacted<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T: Zeroize> Drop for Redacted<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when `T: Display` (the `static_assertions`
    /// `assert_not_impl_any!` technique): with a `Display` impl both blanket
    /// impls apply and the call below becomes ambiguous.
    trait AmbiguousIfDisplay<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfDisplay<()> for T {}
    #[allow(dead_code)]
    struct IsDisplay;
    impl<T: ?Sized + fmt::Display> AmbiguousIfDisplay<IsDisplay> for T {}

    #[test]
    fn redacted_values_cannot_be_displayed() {
        <Redacted<String> as AmbiguousIfDisplay<_>>::check();
    }

    #[test]
    fn debug_never_shows_the_value_and_expose_does() {
        let secret = Redacted::from("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(<redacted>)");
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(secret.into_inner(), "hunter2");
    }

    #[test]
    fn the_wire_format_is_the_value_itself() {
        let secret = Redacted::from("hunter2");
        assert_eq!(
            serde_json::to_string(&secret).expect("serialise"),
            r#""hunter2""#
        );
        let back: Redacted<String> = serde_json::from_str(r#""hunter2""#).expect("deserialise");
        assert_eq!(back.expose(), "hunter2");
        assert!(serde_json::from_str::<Redacted<String>>("42").is_err());
    }
}

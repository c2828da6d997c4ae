//! Panic containment for third-party decoders.
//!
//! rqrr 0.11 asserts inside its perspective mapping on some inputs, and any
//! decoder may index out of bounds on a hostile frame. The scanner runs every
//! decoder call through [`contain`], so a panic costs one pass, is counted,
//! and never reaches the app. A process-wide panic hook is installed once: it
//! stays silent for panics raised inside [`contain`] on the current thread
//! (they are expected and counted) and forwards every other panic to the hook
//! that was there before, so the app's own panic reporting is unchanged.
//!
//! This relies on unwinding: a build with `panic = "abort"` would abort
//! instead, which is why the workspace profiles keep the default.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Depth of [`contain`] calls on this thread; non-zero means "expected".
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

static QUIET_HOOK: Once = Once::new();

fn install_quiet_hook() {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `None`.
///
/// The closure's state is discarded after a panic (decoders work on buffers
/// built for this one call), so asserting unwind safety is sound here.
pub(crate) fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    install_quiet_hook();
    GUARDED.with(|g| g.set(g.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::contain;

    #[test]
    fn a_panic_becomes_none_and_values_pass_through() {
        assert_eq!(contain(|| 7), Some(7));
        let boom: Option<u8> = contain(|| panic!("decoder bug"));
        assert_eq!(boom, None);
        // Still usable after a contained panic.
        assert_eq!(contain(|| "ok"), Some("ok"));
    }
}

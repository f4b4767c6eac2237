//! Crash points for the fault tests: with `KARTKA_FAILPOINT=NAME` in the
//! environment, the process kills itself with SIGKILL when it reaches the
//! point of that name, exactly as `kill -9` would (no destructor runs, no
//! buffer is flushed). Unset, a point costs one cached comparison.

use std::sync::OnceLock;

static POINT: OnceLock<Option<String>> = OnceLock::new();

/// Dies here if `KARTKA_FAILPOINT` names this point.
pub fn hit(name: &str) {
    let armed = POINT.get_or_init(|| std::env::var("KARTKA_FAILPOINT").ok());
    if armed.as_deref() == Some(name) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &std::process::id().to_string()])
            .status();
        std::process::abort();
    }
}

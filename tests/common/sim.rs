//! Scenario helpers for a validator: `kartka-sim` (the real firmware core)
//! with its flash in a folder, serving the dock on a pseudo-terminal
//! (shared by the dock tests and the tests of untrusted tap sources).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{BIN, Home, Run};

/// The simulator binary, built beside kartka (`cargo test --workspace`
/// builds it; a lone `cargo test -p kartka` builds it here).
pub fn sim_bin() -> PathBuf {
    let bin = Path::new(BIN).with_file_name("kartka-sim");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "kartka-sim", "--quiet"])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    bin
}

pub struct Sim {
    child: Child,
    pub port: String,
}

impl Sim {
    /// Starts `kartka-sim serve` on `state` with the home's dock key.
    pub fn start(h: &Home, state: &Path, extra: &[&str]) -> Sim {
        let key = std::fs::read_to_string(h.root.join("keys/dock-master.key")).unwrap();
        let mut child = Command::new(sim_bin())
            .arg("serve")
            .arg("--state")
            .arg(state)
            .args(["--idle-exit", "20"])
            .args(extra)
            .env("KARTKA_DOCK_MASTER", key.trim())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().to_string();
        assert!(port.starts_with("/dev/pts/"), "{line:?}");
        Sim { child, port }
    }

    /// Unplugs and ends the simulator (as dropping it does).
    pub fn stop(self) {}
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A validator's flash with `n` taps recorded (validator 7, bus 1012).
pub fn recorded(h: &Home, n: usize, validator: u16) -> PathBuf {
    let state = h.work.join(format!("sim-{validator}"));
    let out = Command::new(sim_bin())
        .args(["serve", "--no-serve", "--validator", &validator.to_string()])
        .arg("--state")
        .arg(&state)
        .args(["--generate", &n.to_string(), "--cards", "50"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    state
}

/// Docks the validator on `port`, `--json`.
pub fn dock(h: &Home, port: &str) -> Run {
    h.kartka(&["--json", "dock", "--port", port])
}

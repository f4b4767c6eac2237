//! One integration-test binary (STYLE.md): every command's tests, plus the
//! command pages in commands/ run as trycmd examples.

mod common;
mod test_access;
mod test_backup;
mod test_budget;
mod test_cards;
mod test_commands;
mod test_compensation;
mod test_dock;
mod test_eligibility;
mod test_flags;
mod test_import;
mod test_init;
mod test_network;
mod test_open_data;
mod test_outputs;
mod test_scopes;
mod test_taps;
mod test_untrusted_taps;
mod test_variants;

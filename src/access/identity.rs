//! Who is running kartka: the operating-system user, not a flag anyone can
//! type (P20, K5).
//!
//! A city runs kartka from a service account that owns the home (the
//! registry is readable by its owner only). Staff run it through
//! `sudo -u kartka kartka ...`; sudo names the person in `SUDO_USER`. That
//! variable is believed only when the process runs as the home's owner: a
//! user who is not the owner cannot open the home anyway, and the owner can
//! already do anything with its own files.

use std::ffi::CStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The name of the process's real user (the passwd entry), or `uid-N` when
/// the user has no entry (a container with an arbitrary uid).
pub fn os_user() -> String {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    user_name(uid).unwrap_or_else(|| format!("uid-{uid}"))
}

fn user_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: a zeroed passwd is a valid out-parameter; getpwuid_r writes
    // only within `buf`, whose length we pass, and sets `result` to null or
    // to `pwd`.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned())
    }
}

/// The operator of a run on `home`: `SUDO_USER` when running as the home's
/// owner through sudo (or creating a new home), otherwise the OS user.
pub fn operator(home: &Path) -> String {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let owner_runs = match std::fs::metadata(home) {
        Ok(m) => m.uid() == uid,
        Err(_) => true,
    };
    if owner_runs
        && let Ok(person) = std::env::var("SUDO_USER")
        && valid_name(&person)
    {
        return person;
    }
    os_user()
}

/// An account name: what `useradd` accepts, roughly (letters, digits, `._-`,
/// up to 64, not starting with `-`).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_user_has_a_name() {
        let me = os_user();
        assert!(!me.is_empty());
        assert!(valid_name(&me), "{me}");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("olena.k"));
        assert!(valid_name("carrier_7"));
        assert!(!valid_name(""));
        assert!(!valid_name("-rf"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("Олена"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}

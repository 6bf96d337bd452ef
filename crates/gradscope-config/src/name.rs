//! Experiment names: they become folder names (`runs/<name>-<hash>/`, `sweeps/<name>/`), so
//! they are kept to a small portable alphabet.
//!
//! A name the user wrote (the `name` key) is checked and rejected with a clear error when it does
//! not fit ([`check_name`]); a name the user never wrote (derived from the config file's name) is
//! made to fit instead ([`safe_name`]), because `my net (v2).toml` is an ordinary file name and
//! must not make the config fail.

use crate::error::{ConfigError, Result};

/// The longest name, in characters (all ASCII, so also bytes). A name becomes a folder name
/// with a suffix (`-<8-digit hash>` for runs), and most file systems allow 255 bytes.
pub const MAX_NAME_LEN: usize = 200;

/// The longest name [`safe_name`] returns: half of [`MAX_NAME_LEN`], leaving room for the
/// suffixes that sweeps append (`<name>-0001`) before the result is checked again.
pub const MAX_DERIVED_NAME_LEN: usize = MAX_NAME_LEN / 2;

/// Whether `c` may appear in a name: ASCII letters and digits, '-', '_' and '.'.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.".contains(c)
}

/// A valid name made from any text, such as a file stem: every character outside
/// `[A-Za-z0-9._-]` (spaces, '=', '(', non-ASCII letters such as 'é' or 'ネ') becomes '-', runs of
/// '-' collapse to one, leading and trailing '-' and '.' are trimmed, the result is cut to
/// [`MAX_DERIVED_NAME_LEN`] characters, and `"experiment"` stands in when nothing is left. A name
/// that is already valid, short, and has no "--" comes back unchanged.
///
/// ```
/// use gradscope_config::safe_name;
/// assert_eq!(safe_name("my net (v2)="), "my-net-v2");
/// assert_eq!(safe_name("digits-plain-deep"), "digits-plain-deep");
/// assert_eq!(safe_name("ネット"), "experiment");
/// assert_eq!(safe_name(".."), "experiment");
/// ```
pub fn safe_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if allowed(c) { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trim = |s: &str| s.trim_matches(['-', '.']).to_string();
    let mut out = trim(&out);
    if out.len() > MAX_DERIVED_NAME_LEN {
        // All ASCII by now, so any byte index is a character boundary.
        out = trim(&out[..MAX_DERIVED_NAME_LEN]);
    }
    if out.is_empty() {
        "experiment".to_string()
    } else {
        out
    }
}

/// Checks a name the user wrote (the `name` key): 1 to [`MAX_NAME_LEN`] characters from
/// `[A-Za-z0-9._-]`, not starting with '.' (which would make `.` or `..`, the current or parent
/// folder, or a hidden folder).
pub fn check_name(name: &str) -> Result<()> {
    let bad = |rule: String| Err(ConfigError::invalid("name", format!("{name:?}"), rule));
    if name.is_empty() || !name.chars().all(allowed) {
        return bad(
            "must be letters, digits, '-', '_' or '.' (ASCII only: it names folders)".into(),
        );
    }
    if name.starts_with('.') {
        return bad(
            "must not start with '.' (it names folders: \".\" and \"..\" are the current and parent folder)"
                .into(),
        );
    }
    if name.len() > MAX_NAME_LEN {
        return bad(format!(
            "must be at most {MAX_NAME_LEN} characters (it names folders), not {}",
            name.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_name_maps_ordinary_file_names_to_valid_names() {
        for (stem, want) in [
            ("my net (v2)=", "my-net-v2"),
            ("a b", "a-b"),
            ("a=b", "a-b"),
            ("é", "experiment"),
            ("ネット", "experiment"),
            ("réseau profond", "r-seau-profond"),
            ("--a--b--", "a-b"),
            (".hidden", "hidden"),
            ("..", "experiment"),
            (".", "experiment"),
            ("", "experiment"),
            ("v1.2_final", "v1.2_final"),
            ("plain-vs-resnet", "plain-vs-resnet"),
        ] {
            let got = safe_name(stem);
            assert_eq!(got, want, "{stem:?}");
            check_name(&got).unwrap();
            assert_eq!(safe_name(&got), got, "idempotent on {stem:?}");
        }
        let long = safe_name(&"x".repeat(300));
        assert_eq!(long.len(), MAX_DERIVED_NAME_LEN);
        // A cut that ends on '-' is trimmed again.
        let cut = safe_name(&format!("{}-{}", "a".repeat(MAX_DERIVED_NAME_LEN - 1), "b"));
        assert_eq!(cut, "a".repeat(MAX_DERIVED_NAME_LEN - 1));
    }

    #[test]
    fn explicit_names_are_checked() {
        for good in ["a", "my-run_2.0", "x..y", &"n".repeat(MAX_NAME_LEN)] {
            check_name(good).unwrap();
        }
        for (bad, rule) in [
            ("", "must be letters"),
            ("a b", "must be letters"),
            ("é", "ASCII only"),
            ("a/b", "must be letters"),
            (".", "must not start with '.'"),
            ("..", "must not start with '.'"),
            (".git", "must not start with '.'"),
            (&"n".repeat(MAX_NAME_LEN + 1), "at most 200 characters"),
        ] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("name = {bad:?}: ")) && e.contains(rule),
                "{e}"
            );
        }
    }
}

//! File-name-safe stems for run names.

/// A file-name-safe stem for `name`: ASCII letters, digits, `-` and `_` kept, every other run of
/// characters replaced by one `_`, trimmed of `_` and `-` at the ends, at most 64 bytes; `run`
/// when nothing is left.
pub fn sanitize_stem(name: &str) -> String {
    let mut out = String::new();
    let mut pending_sep = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.push(c);
        } else {
            pending_sep = true;
        }
        if out.len() >= 64 {
            break;
        }
    }
    let out = out.trim_matches(|c| c == '_' || c == '-');
    if out.is_empty() {
        "run".to_string()
    } else {
        out.to_string()
    }
}

/// Stems for several names, made unique by appending `-2`, `-3`, … (in order) where two names
/// sanitise to the same stem.
pub(crate) fn unique_stems<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    for name in names {
        let base = sanitize_stem(name);
        let mut stem = base.clone();
        let mut k = 2;
        while used.iter().any(|u| u.eq_ignore_ascii_case(&stem)) {
            stem = format!("{base}-{k}");
            k += 1;
        }
        used.push(stem);
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_file_name_safe() {
        assert_eq!(sanitize_stem("digits-plain-deep"), "digits-plain-deep");
        assert_eq!(sanitize_stem("a/b\\c d<e>"), "a_b_c_d_e");
        assert_eq!(sanitize_stem("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitize_stem("ü ∂L"), "L");
        assert_eq!(sanitize_stem("///"), "run");
        assert_eq!(sanitize_stem(""), "run");
        assert!(sanitize_stem(&"x".repeat(500)).len() <= 64);
    }

    #[test]
    fn stems_are_unique() {
        let s = unique_stems(["a b", "a/b", "A_B", "c"]);
        assert_eq!(s, vec!["a_b", "a_b-2", "A_B-3", "c"]);
    }
}

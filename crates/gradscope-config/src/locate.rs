//! Finding the line of a dotted key in a TOML text, so that a validation error can point at it.
//!
//! The scan understands `[table]` headers, `key = value` lines inside them and dotted keys
//! (`model.depth = 3` at the top level); a key it cannot find (set in an inline table, or not
//! written at all because a default applied) gets no line, and the error names the key alone.

/// 1-based line where `dotted_key` (such as `model.depth`) is assigned in `text`.
pub fn key_line(text: &str, dotted_key: &str) -> Option<usize> {
    let (table, key) = match dotted_key.rsplit_once('.') {
        Some((t, k)) => (t, k),
        None => ("", dotted_key),
    };
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if let Some(end) = rest.find(']') {
                current = rest[..end].trim().trim_matches('[').trim().to_string();
            }
            continue;
        }
        let Some((lhs, _)) = line.split_once('=') else {
            continue;
        };
        let lhs: String = lhs
            .split('.')
            .map(|p| p.trim().trim_matches('"'))
            .collect::<Vec<_>>()
            .join(".");
        let full = if current.is_empty() {
            lhs
        } else {
            format!("{current}.{lhs}")
        };
        if full == dotted_key || (table.is_empty() && current.is_empty() && full == key) {
            return Some(i + 1);
        }
    }
    None
}

/// 1-based (line, column) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_tables_and_dotted_keys() {
        let text =
            "seed = 1\n# a comment\n[model]\ndepth = 0  # bad\nwidth = 3\n[data]\nname = \"x\"\n";
        assert_eq!(key_line(text, "seed"), Some(1));
        assert_eq!(key_line(text, "model.depth"), Some(4));
        assert_eq!(key_line(text, "data.name"), Some(7));
        assert_eq!(key_line(text, "data.depth"), None);
        assert_eq!(key_line("model.depth = 2\n", "model.depth"), Some(1));
    }

    #[test]
    fn offsets_to_line_and_column() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 0), (1, 1));
    }
}

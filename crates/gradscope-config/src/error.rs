//! Config errors: each names the file and line where it can, and the key.

use std::path::PathBuf;

/// What can be wrong with a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not valid TOML, a value has the wrong type, or a key is unknown.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said; for an unknown key, its table and the closest allowed key
        /// ("unknown field `dept` in [model]; did you mean `depth`?").
        message: String,
    },
    /// The path is not a regular file: a folder, a device such as `/dev/zero` (which would be
    /// read forever) or a FIFO (whose read blocks until a writer comes). Checked before the
    /// file is opened, so that opening a FIFO cannot block.
    #[error("{}: not a regular file ({kind}); a config must be a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead: "a directory", "a FIFO", "a character device", ….
        kind: String,
    },
    /// The file is larger than [`crate::MAX_CONFIG_BYTES`]: a config is a few KB, so this is
    /// the wrong file, and reading it whole could exhaust memory.
    #[error(
        "{}: is {}; a config may be at most {} ({limit} bytes)",
        path.display(),
        match size { Some(n) => format!("{n} bytes"), None => format!("more than {limit} bytes") },
        human_bytes(*limit)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size as the file system reported it, or `None` when it reported less than the
        /// limit but more was read (a file that grows, or a special file that lies).
        size: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is not UTF-8 text (TOML must be).
    #[error(
        "{}:{line}: not UTF-8 text (the first invalid byte is at byte offset {offset}); a config must be UTF-8",
        path.display()
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 0-based byte offset of the first invalid byte.
        offset: usize,
    },
    /// A value is out of range or not one of the allowed words.
    #[error("{}{key} = {value}: {rule}", location(file, *line))]
    Invalid {
        /// The file, when the value came from one.
        file: Option<String>,
        /// The line of the key, when it could be found.
        line: Option<usize>,
        /// The dotted key, such as `model.depth`.
        key: String,
        /// The value as written (strings quoted).
        value: String,
        /// What is allowed.
        rule: String,
    },
    /// A `--set key=value` override is malformed or names an unknown key.
    #[error("--set {arg}: {message}")]
    Override {
        /// The override as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
}

fn location(file: &Option<String>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(f), Some(l)) => format!("{f}:{l}: "),
        (Some(f), None) => format!("{f}: "),
        _ => String::new(),
    }
}

/// `1048576` → "1 MiB", `1536` → "1536 bytes": whole KiB/MiB only, so nothing is rounded.
fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

impl ConfigError {
    /// An invalid value for `key` (file and line filled in later by the loader).
    pub fn invalid(key: &str, value: impl std::fmt::Display, rule: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: None,
            line: None,
            key: key.to_string(),
            value: value.to_string(),
            rule: rule.into(),
        }
    }

    /// `value` is not one of `words`, the allowed values of `key`: the rule lists them and, when
    /// one is close to what was written, suggests it (a typo is the likeliest cause).
    pub fn unknown_word(key: &str, value: &str, words: &[&str]) -> Self {
        ConfigError::invalid(
            key,
            format!("{value:?}"),
            format!(
                "expected one of {}{}",
                words.join(", "),
                did_you_mean_word(value, words)
            ),
        )
    }

    /// The dotted key this error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// `Result` with [`ConfigError`].
pub type Result<T> = std::result::Result<T, ConfigError>;

/// `; did you mean "relu"?` when one of `words` is [`closest`] to `value`, else nothing: the
/// tail of a rule that already lists the allowed words.
pub fn did_you_mean_word(value: &str, words: &[&str]) -> String {
    closest(value, words.iter().copied())
        .map_or_else(String::new, |w| format!("; did you mean {w:?}?"))
}

/// The candidate that `word` most likely misspells, if any is close enough to be worth naming:
/// the nearest by [`edit_distance`] (ignoring case) when that distance is at most
/// max(1, ⌊len/3⌋) of the word as written, else the only candidate that starts with the word
/// (`mnist` → `mnist1d`, `leaky` → `leaky_relu`; at least 3 characters). Ties go to the
/// earlier candidate. A limit that grows with the length keeps short words from matching
/// anything (`cnn` is not `chain`), while a long word may carry a slip or two.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (lower.chars().count() / 3).max(1);
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let nearest = candidates
        .iter()
        .map(|&c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c);
    nearest.or_else(|| {
        let mut starting = candidates
            .iter()
            .filter(|c| lower.chars().count() >= 3 && c.to_lowercase().starts_with(&lower));
        match (starting.next(), starting.next()) {
            (Some(&only), None) => Some(only),
            _ => None,
        }
    })
}

/// The optimal-string-alignment distance between `a` and `b`: insertions, deletions,
/// substitutions and transpositions of adjacent characters each cost 1, so the commonest typos
/// (`rleu` for `relu`, `dept` for `depth`) are one edit away.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows of the dynamic-programming table: two back (for transpositions), one back, now.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_typos() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("relu", "relu"), 0);
        assert_eq!(edit_distance("rleu", "relu"), 1);
        assert_eq!(edit_distance("dept", "depth"), 1);
        assert_eq!(edit_distance("depht", "depth"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ca", "abc"), 3);
    }

    #[test]
    fn closest_suggests_only_near_words() {
        let acts = [
            "identity",
            "relu",
            "leaky_relu",
            "tanh",
            "sigmoid",
            "gelu",
            "silu",
        ];
        assert_eq!(closest("rleu", acts), Some("relu"));
        assert_eq!(closest("ReLU", acts), Some("relu"));
        assert_eq!(closest("leaky-relu", acts), Some("leaky_relu"));
        assert_eq!(closest("leaky", acts), Some("leaky_relu"));
        assert_eq!(closest("swish2", acts), None);
        assert_eq!(closest("cnn", ["mlp", "chain"]), None);
        assert_eq!(
            closest("mnist", ["digits", "mnist1d", "csv"]),
            Some("mnist1d")
        );
        assert_eq!(closest("he", ["he_normal", "he_uniform"]), None);
        assert_eq!(closest("xavier", ["xavier_normal", "xavier_uniform"]), None);
    }
}

//! Reading a config: file → TOML → overrides → serde structs → checked [`Experiment`].

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::checked::{Experiment, validate, validate_integers};
use crate::error::{ConfigError, Result, closest};
use crate::locate::{key_line, line_column};
use crate::raw::{RawConfig, RawData, RawModel, RawOptim, RawTrain};

/// One `--set key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The argument as given.
    pub arg: String,
    /// The dotted key.
    pub key: Vec<String>,
    /// The value, parsed as TOML (a bare word that is not valid TOML is taken as a string).
    pub value: toml::Value,
}

impl Override {
    /// Parses `key=value`.
    pub fn parse(arg: &str) -> Result<Override> {
        let bad = |message: &str| ConfigError::Override {
            arg: arg.to_string(),
            message: message.to_string(),
        };
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key=value, such as model.depth=40"))?;
        let key: Vec<String> = key
            .trim()
            .split('.')
            .map(|s| s.trim().to_string())
            .collect();
        if key.iter().any(|k| k.is_empty()) {
            return Err(bad("the key is empty or has an empty part"));
        }
        let value = value.trim();
        if integer_out_of_range(value) {
            return Err(bad(&format!(
                "{value} is outside TOML's integer range ({} to {}): a config holds 64-bit signed integers, seeds included; quote it (\"{value}\") to pass a string",
                i64::MIN,
                i64::MAX
            )));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
            Ok(mut t) => t
                .remove("v")
                .unwrap_or(toml::Value::String(value.to_string())),
            Err(_) => toml::Value::String(value.to_string()),
        };
        Ok(Override {
            arg: arg.to_string(),
            key,
            value,
        })
    }

    fn apply(&self, table: &mut toml::Table) -> Result<()> {
        let mut current = table;
        for part in &self.key[..self.key.len() - 1] {
            let entry = current
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            current = entry.as_table_mut().ok_or_else(|| ConfigError::Override {
                arg: self.arg.clone(),
                message: format!("`{part}` is a value, not a table"),
            })?;
        }
        let last = self.key[self.key.len() - 1].clone();
        current.insert(last, self.value.clone());
        Ok(())
    }
}

/// Whether `value` is written as a decimal integer (an optional sign, then digits) that does not
/// fit in TOML's 64-bit signed integers. Such a value would otherwise fall back to a string and
/// fail later with a puzzling "invalid type: string" error.
fn integer_out_of_range(value: &str) -> bool {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && value.parse::<i64>().is_err()
}

fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
    let message = e.message().trim();
    ConfigError::Syntax {
        file: file.to_string(),
        line,
        column,
        message: UnknownField::parse(message).map_or_else(|| message.to_string(), |u| u.message()),
    }
}

/// A key that serde rejected (`deny_unknown_fields`), read back from its message, which is all
/// the error carries: "unknown field `dept`, expected one of `kind`, `depth`, …".
struct UnknownField {
    /// The key as written.
    field: String,
    /// The keys its table allows, in serde's order.
    expected: Vec<String>,
    /// The table, as written in a config (`model`; empty for the top level), when the allowed
    /// keys are those of one of the config's tables.
    table: Option<&'static str>,
}

impl UnknownField {
    /// Reads serde's message; `None` for any other message. serde writes the allowed keys as
    /// "there are no fields", "expected `a`", "expected `a` or `b`" or "expected one of `a`,
    /// `b`, …": every back-quoted name after the field's own is one of them.
    fn parse(message: &str) -> Option<UnknownField> {
        let (field, expected) = split_unknown_field(message)?;
        let table = config_tables()
            .into_iter()
            .find(|(_, keys)| *keys == expected)
            .map(|(table, _)| table);
        Some(UnknownField {
            field,
            expected,
            table,
        })
    }

    /// "unknown field `dept` in [model]; did you mean `depth`?", or with the allowed keys when
    /// none is close (they are then the likelier help).
    fn message(&self) -> String {
        let place = match self.table {
            Some("") => " at the top level".to_string(),
            Some(table) => format!(" in [{table}]"),
            None => String::new(),
        };
        match closest(&self.field, self.expected.iter().map(String::as_str)) {
            Some(key) => format!(
                "unknown field `{}`{place}; did you mean `{key}`?",
                self.field
            ),
            None => {
                let keys: Vec<String> = self.expected.iter().map(|k| format!("`{k}`")).collect();
                format!(
                    "unknown field `{}`{place}, expected one of {}",
                    self.field,
                    keys.join(", ")
                )
            }
        }
    }

    /// The override that set this field, when one did: its key passes through the field's
    /// table to the field (`model.dept=3` for `dept` in [model], `modle.depth=3` for `modle`).
    fn culprit<'a>(&self, overrides: &'a [Override]) -> Option<&'a Override> {
        let table: Vec<&str> = match self.table? {
            "" => Vec::new(),
            t => t.split('.').collect(),
        };
        overrides.iter().find(|o| {
            o.key.len() > table.len()
                && o.key[table.len()] == self.field
                && o.key[..table.len()].iter().zip(&table).all(|(a, b)| a == b)
        })
    }
}

/// serde's "unknown field" message split into the field and the allowed keys (see
/// [`UnknownField::parse`]).
fn split_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once("`, ")?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field.to_string(), expected))
}

/// Each table of a config (`""` for the top level) with the keys it allows, as serde lists them.
/// Asked of serde itself (a probe with a key no table has), so the list cannot drift from the
/// structs.
fn config_tables() -> Vec<(&'static str, Vec<String>)> {
    fn keys<T: DeserializeOwned>() -> Vec<String> {
        let mut probe = toml::Table::new();
        probe.insert("\u{1}".to_string(), toml::Value::Integer(0));
        T::deserialize(toml::Value::Table(probe))
            .err()
            .and_then(|e| split_unknown_field(e.message()).map(|(_, expected)| expected))
            .unwrap_or_default()
    }
    vec![
        ("", keys::<RawConfig>()),
        ("model", keys::<RawModel>()),
        ("data", keys::<RawData>()),
        ("optim", keys::<RawOptim>()),
        ("train", keys::<RawTrain>()),
        ("diagnosis", keys::<gradscope_record::DiagnosisThresholds>()),
    ]
}

/// Reads a config from `text`. `file` names it in errors, `base_dir` resolves relative data
/// paths (the checked config holds them absolute), `default_name` names the experiment when the
/// config does not (made safe for folder names by [`crate::safe_name`] first).
pub fn parse_config(
    text: &str,
    file: &str,
    base_dir: &Path,
    default_name: &str,
    overrides: &[Override],
) -> Result<Experiment> {
    // First from the text itself, so that type errors and unknown keys point at a line.
    let mut raw: RawConfig = toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
    let locate = |e: ConfigError| match e {
        ConfigError::Invalid {
            key, value, rule, ..
        } => {
            let overridden = overrides.iter().find(|o| o.key.join(".") == key);
            match overridden {
                Some(o) => ConfigError::Override {
                    arg: o.arg.clone(),
                    message: format!("{key} = {value}: {rule}"),
                },
                None => ConfigError::Invalid {
                    file: Some(file.to_string()),
                    line: key_line(text, &key),
                    key,
                    value,
                    rule,
                },
            }
        }
        other => other,
    };
    if !overrides.is_empty() {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            // The typed read above succeeded, so the text is valid TOML: a generic table fails
            // only on an integer beyond i64, which a u64 field takes. Name its key and rule
            // rather than the parser's "u64 value was too large".
            match validate_integers(&raw) {
                Err(invalid) => locate(invalid),
                Ok(()) => syntax_error(file, text, &e),
            }
        })?;
        for o in overrides {
            o.apply(&mut table)?;
        }
        raw = RawConfig::deserialize(toml::Value::Table(table)).map_err(|e| {
            let all = || {
                overrides
                    .iter()
                    .map(|o| o.arg.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let message = e.message().trim();
            match UnknownField::parse(message) {
                Some(u) => ConfigError::Override {
                    arg: u.culprit(overrides).map_or_else(all, |o| o.arg.clone()),
                    message: u.message(),
                },
                None => ConfigError::Override {
                    arg: all(),
                    message: message.to_string(),
                },
            }
        })?;
    }
    validate(&raw, base_dir, default_name).map_err(locate)
}

/// The largest config file [`read_config_text`] reads, in bytes (1 MiB). A config is a few KB;
/// the cap keeps a wrong path (a disk image, a log, `/dev/zero`) from filling memory.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads a config (or sweep) file as text, refusing what cannot be a config before it is read:
///
/// - a path that is not a regular file ([`ConfigError::NotAFile`]): checked with
///   [`std::fs::metadata`] *before* the file is opened, because opening a FIFO blocks until a
///   writer comes, and a device such as `/dev/zero` never ends;
/// - a file larger than [`MAX_CONFIG_BYTES`] ([`ConfigError::TooLarge`]): the size the file
///   system reports is checked first, and the read itself stops one byte past the cap
///   (`Read::take`), so a file that grows while it is read, or lies about its size, cannot
///   exceed it either;
/// - text that is not UTF-8 ([`ConfigError::NotUtf8`], with the line of the first bad byte).
///
/// Symbolic links are followed. Every error names the path.
pub fn read_config_text(path: &Path) -> Result<String> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ConfigError::NotAFile {
            path: path.to_path_buf(),
            kind: gradscope_data::file_kind(&meta.file_type()).to_string(),
        });
    }
    let too_large = |size| ConfigError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit: MAX_CONFIG_BYTES,
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large(Some(meta.len())));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(None));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ConfigError::NotUtf8 {
            path: path.to_path_buf(),
            line,
            offset,
        }
    })
}

/// Reads and checks the config file at `path`, with overrides. The file is read with
/// [`read_config_text`] (regular files of at most [`MAX_CONFIG_BYTES`] only); relative data paths
/// resolve against its folder; an experiment without a `name` key is named after the file, made
/// safe for folder names by [`crate::safe_name`].
pub fn load_config(path: &Path, overrides: &[Override]) -> Result<Experiment> {
    let text = read_config_text(path)?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    parse_config(
        &text,
        &path.display().to_string(),
        base_dir,
        &stem,
        overrides,
    )
}

/// The config actually used, as TOML (defaults filled in, overrides applied). Every config that
/// passed validation can be written: its integers fit in TOML's i64 (checked), and its data path
/// is absolute, so the copy reads the same data from any folder.
pub fn to_toml(raw: &RawConfig) -> String {
    toml::to_string(raw).unwrap_or_default()
}

/// A short stable hash of a config (FNV-1a over its TOML form), for folder names and run ids.
pub fn config_hash(raw: &RawConfig) -> String {
    short_hash(&to_toml(raw))
}

/// A short stable hash of a text (FNV-1a, folded to 32 bits, 8 hex digits): the one behind
/// [`config_hash`], for other names made from content.
pub fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", (h >> 32) ^ (h & 0xffff_ffff))
}

//! Reading a sweep file and expanding it into its runs, every combination validated before
//! anything runs (see the [module docs](super) for the format).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gradscope_config::{
    Override, RawConfig, config_hash, parse_config, read_config_text, safe_name, to_toml,
};
use serde::Deserialize;

use super::manifest::SweepRun;
use crate::error::{Error, Result};

/// The sweep file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    base: toml::Value,
    name: Option<String>,
    #[serde(default)]
    set: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    zip: toml::Table,
    /// Runs of every configuration, with model seeds `seed`, `seed + 1`, … (any TOML value here,
    /// checked by `repeats()`, so that a bad one gets a message naming the key).
    repeats: Option<toml::Value>,
    /// Names for the architectures, by the name gradscope gives them (`"residual + layer norm" =
    /// "pre-LN ResNet"`), used in the table, the pivot and the report.
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The most repeats a sweep file may ask for.
pub const MAX_REPEATS: i64 = 100;

/// The axis key of the model seed: the key that `repeats = N` varies, and the key whose values
/// tell repeats of one configuration apart.
pub const SEED_KEY: &str = "seed";

/// `repeats = N`, checked: a whole number from 1 to [`MAX_REPEATS`] (1 when absent).
fn repeats(path: &Path, value: Option<&toml::Value>) -> Result<usize> {
    let Some(v) = value else { return Ok(1) };
    match v.as_integer() {
        Some(n) if (1..=MAX_REPEATS).contains(&n) => Ok(n as usize),
        _ => Err(sweep_err(
            path,
            format!(
                "repeats = {v}: expected a whole number from 1 to {MAX_REPEATS} (how many times \
                 each configuration runs, with model seeds seed, seed + 1, …)"
            ),
        )),
    }
}

/// An expanded sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Name (safe as a folder name).
    pub name: String,
    /// Axis keys in order (grid axes, then zipped keys).
    pub keys: Vec<String>,
    /// The runs in grid order, with their full configs (TOML text).
    pub runs: Vec<(SweepRun, String)>,
    /// `[labels]`: a name for an architecture, by the name gradscope gives it.
    pub labels: BTreeMap<String, String>,
}

fn sweep_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Sweep {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// An explicit sweep name must be usable as a folder name as written: no path separators, no
/// `.`/`..`, nothing hidden.
fn check_name(path: &Path, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(sweep_err(
            path,
            format!(
                "name = {name:?}: must be letters, digits, '-', '_' or '.', not starting with '.' \
                 (it names the sweep's folder)"
            ),
        ))
    }
}

/// A `data.path` value under `[set]`, `[axes]` or `[zip]` is relative to the sweep file's folder.
fn resolve_data_path(key: &str, v: &toml::Value, sweep_dir: &Path) -> toml::Value {
    match v {
        toml::Value::String(p) if key == "data.path" && Path::new(p).is_relative() => {
            let abs = std::path::absolute(sweep_dir.join(p)).unwrap_or_else(|_| sweep_dir.join(p));
            toml::Value::String(abs.display().to_string())
        }
        other => other.clone(),
    }
}

/// Reads and expands a sweep file; every combination is validated before anything runs.
pub fn load_sweep(path: &Path) -> Result<Sweep> {
    let text = read_config_text(path)?;
    let raw: RawSweep =
        toml::from_str(&text).map_err(|e| sweep_err(path, e.message().trim().to_string()))?;
    let raw_labels = raw.labels.clone();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = match &raw.name {
        Some(n) => {
            check_name(path, n)?;
            n.clone()
        }
        None => safe_name(
            &path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };

    // A key has one place: fixed, a grid axis, or zipped.
    for (k, _) in &raw.axes {
        if raw.zip.contains_key(k) {
            return Err(sweep_err(
                path,
                format!("\"{k}\" is under both [axes] and [zip]: give it one place"),
            ));
        }
    }
    for (k, _) in &raw.set {
        if raw.axes.contains_key(k) || raw.zip.contains_key(k) {
            return Err(sweep_err(
                path,
                format!("\"{k}\" is fixed under [set] and also varied: give it one place"),
            ));
        }
    }

    // The base as a raw config; its data path is made absolute by the config crate, so runs
    // work from any folder.
    let (base_text, base_file, base_dir): (String, String, PathBuf) = match &raw.base {
        toml::Value::String(p) => {
            let p = dir.join(p);
            let t = read_config_text(&p)?;
            let base_dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (t, p.display().to_string(), base_dir)
        }
        toml::Value::Table(t) => (
            toml::to_string(t).unwrap_or_default(),
            format!("{} (base)", path.display()),
            dir.to_path_buf(),
        ),
        _ => {
            return Err(sweep_err(
                path,
                "base: expected a config path or a [base] table",
            ));
        }
    };
    let fixed = raw
        .set
        .iter()
        .map(|(k, v)| {
            Override::parse(&format!(
                "{k}={}",
                value_text(&resolve_data_path(k, v, dir))
            ))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let base_exp = parse_config(&base_text, &base_file, &base_dir, &name, &fixed)?;
    let mut base: RawConfig = base_exp.raw.clone();
    base.name = None;

    // Axes: grid axes in file order, then one combined axis for the zipped lists.
    let mut axes: Vec<(Vec<String>, Vec<Vec<toml::Value>>)> = Vec::new();
    for (key, values) in &raw.axes {
        let list = values
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| sweep_err(path, format!("axes.\"{key}\": expected a non-empty list")))?;
        axes.push((
            vec![key.clone()],
            list.iter()
                .map(|v| vec![resolve_data_path(key, v, dir)])
                .collect(),
        ));
    }
    if !raw.zip.is_empty() {
        let mut keys = Vec::new();
        let mut lists: Vec<&Vec<toml::Value>> = Vec::new();
        for (key, values) in &raw.zip {
            let list = values.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
                sweep_err(path, format!("zip.\"{key}\": expected a non-empty list"))
            })?;
            keys.push(key.clone());
            lists.push(list);
        }
        let n = lists[0].len();
        if let Some((k, l)) = keys.iter().zip(&lists).find(|(_, l)| l.len() != n) {
            return Err(sweep_err(
                path,
                format!(
                    "zip.\"{k}\" has {} values but zip.\"{}\" has {n}: zipped lists must have equal length",
                    l.len(),
                    keys[0]
                ),
            ));
        }
        let combos = (0..n)
            .map(|i| {
                keys.iter()
                    .zip(&lists)
                    .map(|(k, l)| resolve_data_path(k, &l[i], dir))
                    .collect()
            })
            .collect();
        axes.push((keys, combos));
    }
    // Repeats: one more axis, last (so that a configuration's repeats are neighbours in grid
    // order), over the model seed only: the data, its split and batch order stay the same.
    let repeats = repeats(path, raw.repeats.as_ref())?;
    if repeats > 1 {
        if raw.axes.contains_key(SEED_KEY) || raw.zip.contains_key(SEED_KEY) {
            return Err(sweep_err(
                path,
                format!(
                    "repeats = {repeats} and a \"{SEED_KEY}\" axis both vary the model seed: give \
                     one (repeats = N runs seeds seed, seed + 1, …, seed + N - 1)"
                ),
            ));
        }
        let first = base.seed;
        let last = first
            .checked_add(repeats as u64 - 1)
            .filter(|&s| s <= i64::MAX as u64)
            .ok_or_else(|| {
                sweep_err(
                    path,
                    format!(
                        "repeats = {repeats} from seed {first} goes past the largest seed ({})",
                        i64::MAX
                    ),
                )
            })?;
        axes.push((
            vec![SEED_KEY.to_string()],
            (first..=last)
                .map(|s| vec![toml::Value::Integer(s as i64)])
                .collect(),
        ));
    }
    let keys: Vec<String> = axes.iter().flat_map(|(k, _)| k.clone()).collect();

    // The grid, last axis fastest.
    let total: usize = axes.iter().map(|(_, v)| v.len()).product();
    let base_toml = to_toml(&base);
    let mut runs = Vec::with_capacity(total);
    for index in 0..total {
        let mut rest = index;
        let mut choice = vec![0; axes.len()];
        for (a, (_, values)) in axes.iter().enumerate().rev() {
            choice[a] = rest % values.len();
            rest /= values.len();
        }
        let mut overrides = Vec::new();
        let mut values = BTreeMap::new();
        for (a, (akeys, avalues)) in axes.iter().enumerate() {
            for (k, v) in akeys.iter().zip(&avalues[choice[a]]) {
                let arg = format!("{k}={}", value_text(v));
                overrides.push(Override::parse(&arg)?);
                values.insert(k.clone(), value_text(v));
            }
        }
        let exp = parse_config(
            &base_toml,
            &format!("{} run {index}", path.display()),
            &base_dir,
            &name,
            &overrides,
        )?;
        let mut run_raw = exp.raw.clone();
        let id = format!("{index:04}-{}", config_hash(&run_raw));
        run_raw.name = Some(run_label(&values).unwrap_or_else(|| format!("{name}-{index:04}")));
        let run = SweepRun {
            index,
            id,
            values,
            config_hash: String::new(),
        };
        runs.push((run, to_toml(&run_raw)));
    }
    // Every label must name an architecture of this sweep, or it would silently do nothing.
    let names: Vec<String> = {
        let mut names = Vec::new();
        for (r, _) in &runs {
            let a = super::manifest::architecture(&r.values);
            if !names.contains(&a) {
                names.push(a);
            }
        }
        names
    };
    for (key, label) in &raw_labels {
        if !names.contains(key) {
            let hint = gradscope_config::closest(key, names.iter().map(String::as_str))
                .map_or(String::new(), |c| format!(" Did you mean \"{c}\"?"));
            return Err(sweep_err(
                path,
                format!(
                    "labels.\"{key}\": not an architecture of this sweep (they are {}).{hint}",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if label.trim().is_empty() {
            return Err(sweep_err(
                path,
                format!("labels.\"{key}\": the label is empty"),
            ));
        }
    }
    Ok(Sweep {
        name,
        keys,
        runs,
        labels: raw_labels,
    })
}

/// A readable, file-safe run name from its axis values: `depth-16_norm-layer_residual-true`, and
/// the model seed last where it varies: `depth-16_norm-layer_residual-true_seed-2`.
fn run_label(values: &BTreeMap<String, String>) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let label = values
        .iter()
        .filter(|(k, _)| *k != SEED_KEY)
        .chain(values.get_key_value(SEED_KEY))
        .map(|(k, v)| {
            let key = k.rsplit('.').next().unwrap_or(k);
            format!("{key}-{}", v.trim_matches('"'))
        })
        .collect::<Vec<_>>()
        .join("_");
    Some(
        label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Sweep> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.toml");
        std::fs::write(&p, text).unwrap();
        load_sweep(&p)
    }

    const BASE: &str =
        "[base]\n[base.model]\ndepth = 2\nwidth = 8\n[base.data]\nname = \"spirals\"\n";

    #[test]
    fn a_key_in_two_places_is_refused_naming_it() {
        let e = load(&format!(
            "{BASE}[axes]\n\"model.depth\" = [1, 2]\n[zip]\n\"model.depth\" = [3, 4]\n"
        ))
        .unwrap_err();
        assert!(matches!(e, Error::Sweep { .. }), "{e}");
        assert!(e.to_string().contains("[axes] and [zip]"), "{e}");
        let e = load(&format!(
            "{BASE}[set]\n\"model.depth\" = 3\n[axes]\n\"model.depth\" = [1, 2]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("[set]"), "{e}");
    }

    /// `[labels]` rename architectures (the manifest applies them); a label for an architecture
    /// the sweep does not have is refused, naming it and suggesting the nearest.
    #[test]
    fn labels_name_architectures_and_typos_are_refused() {
        let axes = "[axes]\n\"model.depth\" = [2, 3]\n[zip]\n\"model.residual\" = [false, true]\n\"model.norm\" = [\"none\", \"layer\"]\n";
        let s = load(&format!(
            "{BASE}{axes}[labels]\n\"residual + layer norm\" = \"pre-LN ResNet\"\n"
        ))
        .unwrap();
        assert_eq!(s.labels.len(), 1);
        let manifest = super::super::manifest::Manifest {
            schema_version: super::super::manifest::MANIFEST_SCHEMA_VERSION,
            name: s.name.clone(),
            keys: s.keys.clone(),
            runs: s.runs.iter().map(|(r, _)| r.clone()).collect(),
            labels: s.labels.clone(),
        };
        let names: Vec<String> = manifest
            .runs
            .iter()
            .map(|r| manifest.architecture(&r.values))
            .collect();
        assert_eq!(names, ["plain", "pre-LN ResNet", "plain", "pre-LN ResNet"]);

        let e = load(&format!(
            "{BASE}{axes}[labels]\n\"residual + layernorm\" = \"x\"\n"
        ))
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("labels.\"residual + layernorm\""), "{text}");
        assert!(
            text.contains("Did you mean \"residual + layer norm\"?"),
            "{text}"
        );
        let e = load(&format!("{BASE}{axes}[labels]\nplain = \" \"\n")).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn names_that_would_escape_the_sweep_folder_are_refused() {
        for bad in ["..", ".", "a/b", ".hidden", ""] {
            let e = load(&format!("name = {bad:?}\n{BASE}")).unwrap_err();
            assert!(matches!(e, Error::Sweep { .. }), "{bad}: {e}");
            assert_eq!(e.exit_code(), crate::exit_code::CONFIG);
        }
        assert_eq!(
            load(&format!("name = \"ok-1.2\"\n{BASE}")).unwrap().name,
            "ok-1.2"
        );
    }

    /// The config key `key` of a run's config text.
    fn config_value(cfg: &str, key: &str) -> toml::Value {
        let t: toml::Table = toml::from_str(cfg).unwrap();
        key.split('.')
            .fold(toml::Value::Table(t), |v, k| v[k].clone())
    }

    /// `repeats = 3` runs every configuration three times, with model seeds seed, seed + 1,
    /// seed + 2 (the data seed unchanged), as neighbours in grid order with distinct names and
    /// ids; a `seed` axis expands exactly alike.
    #[test]
    fn repeats_run_each_configuration_with_successive_seeds() {
        let s = load(&format!(
            "repeats = 3\n{BASE}[set]\nseed = 7\n\"data.seed\" = 4\n[axes]\n\"model.depth\" = [1, 2]\n"
        ))
        .unwrap();
        assert_eq!(s.keys, ["model.depth", "seed"]);
        assert_eq!(s.runs.len(), 6);
        let seeds: Vec<i64> = s
            .runs
            .iter()
            .map(|(_, cfg)| config_value(cfg, "seed").as_integer().unwrap())
            .collect();
        assert_eq!(seeds, [7, 8, 9, 7, 8, 9]);
        for (r, cfg) in &s.runs {
            assert_eq!(config_value(cfg, "data.seed").as_integer(), Some(4));
            assert_eq!(
                r.values["seed"],
                config_value(cfg, "seed").to_string(),
                "{r:?}"
            );
        }
        let names: Vec<String> = s
            .runs
            .iter()
            .map(|(_, cfg)| config_value(cfg, "name").as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "depth-1_seed-7",
                "depth-1_seed-8",
                "depth-1_seed-9",
                "depth-2_seed-7",
                "depth-2_seed-8",
                "depth-2_seed-9"
            ]
        );
        let ids: std::collections::BTreeSet<&String> = s.runs.iter().map(|(r, _)| &r.id).collect();
        assert_eq!(ids.len(), 6, "ids must differ");

        // The same runs from a seed axis.
        let axis = load(&format!(
            "{BASE}[set]\n\"data.seed\" = 4\n[axes]\n\"model.depth\" = [1, 2]\nseed = [7, 8, 9]\n"
        ))
        .unwrap();
        assert_eq!(axis.keys, s.keys);
        assert_eq!(axis.runs, s.runs);

        // repeats = 1 changes nothing.
        let once = load(&format!("repeats = 1\n{BASE}")).unwrap();
        assert_eq!(once.runs.len(), 1);
        assert!(once.keys.is_empty());
    }

    #[test]
    fn bad_repeats_are_refused_naming_the_key() {
        for bad in ["0", "-2", "1.5", "\"3\"", "101", "true", "[2]"] {
            let e = load(&format!("repeats = {bad}\n{BASE}")).unwrap_err();
            assert!(matches!(e, Error::Sweep { .. }), "{bad}: {e}");
            assert_eq!(e.exit_code(), crate::exit_code::CONFIG, "{bad}");
            assert!(e.to_string().contains("repeats"), "{bad}: {e}");
        }
        // With a seed axis, repeats would vary the seed twice.
        let e = load(&format!("repeats = 2\n{BASE}[axes]\nseed = [1, 2]\n")).unwrap_err();
        assert!(
            e.to_string().contains("repeats = 2") && e.to_string().contains("\"seed\""),
            "{e}"
        );
        // Seeds past TOML's largest integer.
        let e = load(&format!(
            "repeats = 3\n{BASE}[set]\nseed = {}\n",
            i64::MAX - 1
        ))
        .unwrap_err();
        assert!(e.to_string().contains("repeats = 3"), "{e}");
    }

    #[test]
    fn syntax_errors_in_the_sweep_file_are_config_errors() {
        let e = load("base = 3\n").unwrap_err();
        assert_eq!(e.exit_code(), crate::exit_code::CONFIG, "{e}");
        let e = load("nonsense = [\n").unwrap_err();
        assert_eq!(e.exit_code(), crate::exit_code::CONFIG, "{e}");
    }
}

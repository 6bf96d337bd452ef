//! Refusing sizes that cannot fit, before anything is built.
//!
//! A width of 100 000 asks for 40 GB for one weight matrix: the allocator then aborts the process
//! (exit 134, "memory allocation failed") with nothing written and nothing explained. So `run`,
//! `inspect` and `bench` estimate what they will hold from the sizes alone ([`estimate`]) and
//! compare it with the memory this process may use ([`limit`]: Linux's `MemAvailable`, lowered by
//! a cgroup's `memory.max`, or `--max-memory`), refusing with both numbers when it does not fit.
//!
//! The estimate is deliberately generous (every f32 the step can hold at once: weights, gradients
//! and optimiser state of every arm, the activations autodiff keeps, an evaluation pass, the data),
//! so a config it accepts does fit; `--max-memory` raises the limit when a user knows better.

use gradscope_model::Footprint;

use crate::error::{Error, Result};

/// Bytes of one stored value (burn's default float, f32).
const F32: f64 = 4.0;

/// What one run holds at once, in sizes the caller knows before building anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// The model's sizes.
    pub footprint: Footprint,
    /// Rows per training batch.
    pub batch: usize,
    /// Rows of the largest evaluation pass (the whole training split, evaluated at once).
    pub eval_rows: usize,
    /// Values of the data set held in memory (rows × features, both splits).
    pub data_values: usize,
    /// Values of optimiser state per parameter (SGD 0, momentum 1, Adam 2).
    pub optimizer_slots: usize,
    /// Models trained side by side (the real run, the baseline, …).
    pub arms: usize,
}

/// The estimated peak bytes of `w`.
pub fn estimate(w: &Workload) -> f64 {
    let p = w.footprint.parameters;
    let arms = w.arms.max(1) as f64;
    // Per arm: weights and their gradient, twice over while the optimiser builds the stepped
    // weights and the update ratios keep the old ones; plus the optimiser's own state.
    let parameters = p * (3.0 * arms + w.optimizer_slots as f64 + 2.0);
    // Forward values kept for the backward pass, and their gradients.
    let activations = 2.0 * arms * w.batch as f64 * w.footprint.activations_per_sample;
    // An evaluation pass holds about three layers' outputs per row at once.
    let eval = 3.0 * w.eval_rows as f64 * w.footprint.widest_layer;
    // The data on the host and again as device tensors.
    let data = 2.0 * w.data_values as f64;
    F32 * (parameters + activations + eval + data)
}

/// Bytes this process may use: `--max-memory` when given, else what the system has available.
/// `None` where neither is known (not Linux): then nothing is refused.
pub fn limit(max_memory: Option<u64>) -> Option<(u64, &'static str)> {
    if let Some(m) = max_memory {
        return Some((m, "is allowed by --max-memory"));
    }
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| mem_available(&t))?;
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    Some((
        cgroup.map_or(available, |c| c.min(available)),
        "is available",
    ))
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix("MemAvailable:")?;
        let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib.saturating_mul(1024))
    })
}

/// Refuses `w` when its estimate exceeds the limit; `what` names it in the error.
pub fn check(what: &str, w: &Workload, max_memory: Option<u64>) -> Result<()> {
    let need = estimate(w);
    match limit(max_memory) {
        Some((limit, limit_source)) if need > limit as f64 => Err(Error::Memory {
            what: what.to_string(),
            need: need.min(u64::MAX as f64) as u64,
            limit,
            limit_source,
        }),
        _ => Ok(()),
    }
}

/// Parses a size such as `8G`, `512MiB`, `1.5GB` or `1000000` (bytes); units are powers of 1024.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a size such as 8G, 512M or 1000000"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024f64.powi(2),
        "g" | "gb" | "gib" => 1024f64.powi(3),
        "t" | "tb" | "tib" => 1024f64.powi(4),
        other => return Err(format!("{s:?}: unknown unit {other:?} (use K, M, G or T)")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("{s:?}: must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// A byte count for people: `37.3 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mlp(width: usize, depth: usize) -> Workload {
        let mut c = gradscope_model::MlpConfig::new(
            64,
            10,
            width,
            depth,
            gradscope_model::Activation::Relu,
            gradscope_model::WeightInit::new(gradscope_model::InitKind::HeNormal, 1.0),
        );
        c.bias = true;
        Workload {
            footprint: gradscope_model::ModelSpec::Mlp(c).footprint(),
            batch: 128,
            eval_rows: 1437,
            data_values: 1797 * 64,
            optimizer_slots: 1,
            arms: 2,
        }
    }

    /// The weights alone are a lower bound: depth × width² values of 4 bytes, for each arm.
    #[test]
    fn the_estimate_covers_the_weights_of_every_arm() {
        let w = mlp(100_000, 24);
        let weights_per_arm = 23.0 * 1e10 * 4.0;
        assert!(estimate(&w) > 2.0 * weights_per_arm);
        // The bundled configs (width 64–256) need well under a GiB.
        assert!(
            estimate(&mlp(256, 24)) < 1024f64.powi(3),
            "{}",
            estimate(&mlp(256, 24))
        );
    }

    #[test]
    fn a_model_too_large_for_the_limit_is_refused_with_both_numbers() {
        let e = check("model", &mlp(100_000, 24), Some(8 << 30)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("8.0 GiB is allowed by --max-memory"),
            "{text}"
        );
        assert!(text.contains("needs about"), "{text}");
        check("model", &mlp(64, 4), Some(8 << 30)).unwrap();
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("8G").unwrap(), 8 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("1.5 GB").unwrap(), 3 << 29);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("8X").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(
            mem_available("MemTotal: 10 kB\nMemAvailable:   2048 kB\n"),
            Some(2 << 20)
        );
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}

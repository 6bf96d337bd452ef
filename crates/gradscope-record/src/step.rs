//! The record format: one JSON object per recorded step per run (JSON Lines), and a long CSV.
//!
//! Schema (version [`SCHEMA_VERSION`]); per-layer quantities are arrays indexed by layer
//! (element 0 = layer 1). Floats are JSON numbers when finite and the strings `"NaN"`, `"inf"`,
//! `"-inf"` otherwise; `null` means "not measured" or "not applicable".
//!
//! ```json
//! {"schema_version":1,"run":"real","step":0,"lr":0.1,"loss":2.30,"grad_norm":0.52,
//!  "clipped":false,"spectral_product":1.7,
//!  "layers":{"act_grad_norm":[…],"weight_grad_norm":[…],"bias_grad_norm":[…],
//!            "weight_norm":[…],"spectral_norm":[…],"update_ratio":[…],
//!            "act_mean":[…],"act_std":[…],"act_saturated":[…],"act_dead":[…],
//!            "act_nonfinite":[…],
//!            "act_grad_norm_time":[[…], …],
//!            "recurrent_spectral_norm":[…],"recurrent_spectral_radius":[…]},
//!  "eval":{"train_loss":…,"test_loss":…,"test_accuracy":…},
//!  "nonfinite":null}
//! ```
//!
//! `act_grad_norm_time` is there only when a layer observed time steps (a recurrent layer
//! unrolled in its forward pass, through `LayerObserver::observe_step`): per layer, ‖∂L/∂h_t‖ for
//! t = 1, 2, … (an empty array for a layer without time steps). `recurrent_spectral_norm` and
//! `recurrent_spectral_radius` are there only when a layer is recurrent: ‖W_hh‖₂ and ρ(W_hh) of
//! the matrix that carries its state from one step to the next (`null` for other layers).
//! Versions 1 and 2, written before these existed, still load.
//!
//! The long CSV has the columns `run,step,layer,quantity,value`: one row per number, layer 0 for
//! step-level quantities, values written as in JSON (`NaN`, `inf`, `-inf` spelled out); time
//! steps are the quantity `act_grad_norm_t<t>` (`act_grad_norm_t1`, …) of their layer.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::nonfinite::NonFinite;
use crate::real::{Real, format_real};

/// Version of the record format; bumped on any change.
///
/// 2: `layers.act_grad_norm_time`, the backward signal at every time step of recurrent layers.
/// 3: `layers.recurrent_spectral_norm` and `layers.recurrent_spectral_radius`.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest record version this build reads.
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Errors reading records.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A line is not a valid record.
    #[error("{path}:{line}: not a valid record: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The record has another schema version.
    #[error(
        "{path}:{line}: schema_version {found} is not supported (this build reads {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION})"
    )]
    Version {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The version found.
        found: u32,
    },
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Which of the two runs of an experiment a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// The real training run.
    Real,
    /// The learning-rate-zero baseline (same initial weights, same batches).
    Baseline,
}

impl RunKind {
    /// `real` or `baseline`.
    pub fn name(self) -> &'static str {
        match self {
            RunKind::Real => "real",
            RunKind::Baseline => "baseline",
        }
    }
}

/// Per-layer series of one step, each indexed by layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerSeries {
    /// ‖∂L/∂h_l‖.
    pub act_grad_norm: Vec<Option<Real>>,
    /// ‖∂L/∂W_l‖.
    pub weight_grad_norm: Vec<Option<Real>>,
    /// ‖∂L/∂b_l‖ (biases, norm scales, α).
    pub bias_grad_norm: Vec<Option<Real>>,
    /// ‖W_l‖_F.
    pub weight_norm: Vec<Option<Real>>,
    /// ‖W_l‖₂ (product over the layer's matrices).
    pub spectral_norm: Vec<Option<Real>>,
    /// ‖ΔW_l‖/‖W_l‖.
    pub update_ratio: Vec<Option<Real>>,
    /// Mean of h_l.
    pub act_mean: Vec<Option<Real>>,
    /// Standard deviation of h_l.
    pub act_std: Vec<Option<Real>>,
    /// Saturated fraction of h_l.
    pub act_saturated: Vec<Option<Real>>,
    /// Dead-unit fraction of h_l.
    pub act_dead: Vec<Option<Real>>,
    /// Non-finite entries of h_l.
    pub act_nonfinite: Vec<Option<u64>>,
    /// ‖∂L/∂h_t‖ at every time step t = 1, 2, … of each layer that observed time steps (an
    /// empty list for the others); empty, and left out of the JSON, when no layer did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub act_grad_norm_time: Vec<Vec<Option<Real>>>,
    /// ‖W_hh‖₂ of each recurrent layer's state matrix (`None` for other layers); empty, and
    /// left out of the JSON, when no layer is recurrent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recurrent_spectral_norm: Vec<Option<Real>>,
    /// ρ(W_hh), the largest eigenvalue modulus of the same matrix: what its powers grow or
    /// shrink by per step in the long run; empty when no layer is recurrent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recurrent_spectral_radius: Vec<Option<Real>>,
}

impl LayerSeries {
    /// The quantities by name, in a fixed order (the CSV order), as floats; the recurrent ones
    /// only where some layer is recurrent.
    pub fn quantities(&self) -> Vec<(&'static str, Vec<Option<f64>>)> {
        let f = |v: &Vec<Option<Real>>| v.iter().map(|x| x.map(Real::get)).collect();
        let recurrent = [
            ("recurrent_spectral_norm", &self.recurrent_spectral_norm),
            ("recurrent_spectral_radius", &self.recurrent_spectral_radius),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(q, v)| (q, f(v)));
        let mut all = vec![
            ("act_grad_norm", f(&self.act_grad_norm)),
            ("weight_grad_norm", f(&self.weight_grad_norm)),
            ("bias_grad_norm", f(&self.bias_grad_norm)),
            ("weight_norm", f(&self.weight_norm)),
            ("spectral_norm", f(&self.spectral_norm)),
            ("update_ratio", f(&self.update_ratio)),
            ("act_mean", f(&self.act_mean)),
            ("act_std", f(&self.act_std)),
            ("act_saturated", f(&self.act_saturated)),
            ("act_dead", f(&self.act_dead)),
            (
                "act_nonfinite",
                self.act_nonfinite
                    .iter()
                    .map(|x| x.map(|n| n as f64))
                    .collect(),
            ),
        ];
        all.extend(recurrent);
        all
    }
}

/// Evaluation metrics attached to a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Loss on the whole training split.
    pub train_loss: Real,
    /// Loss on the test split.
    pub test_loss: Real,
    /// Accuracy on the test split (classification only).
    pub test_accuracy: Option<Real>,
    /// Accuracy on the training split (classification only).
    #[serde(default)]
    pub train_accuracy: Option<Real>,
}

/// One recorded step of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Real run or baseline.
    pub run: RunKind,
    /// Step index (0 = first).
    pub step: u64,
    /// Learning rate used at this step (0 for the baseline).
    pub lr: Real,
    /// Training loss on this step's batch (before the update).
    pub loss: Real,
    /// Global gradient norm, before clipping.
    pub grad_norm: Real,
    /// Whether the gradient was clipped at this step.
    pub clipped: bool,
    /// ∏ over layers of the spectral norms.
    pub spectral_product: Option<Real>,
    /// Per-layer quantities.
    pub layers: LayerSeries,
    /// Evaluation, on steps where it ran.
    pub eval: Option<EvalRecord>,
    /// The first non-finite value, on the step where it appeared.
    pub nonfinite: Option<NonFinite>,
}

impl StepRecord {
    /// The record as one JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The activation-gradient norms as floats (NaN where missing).
    pub fn act_grad_norms(&self) -> Vec<f64> {
        self.layers
            .act_grad_norm
            .iter()
            .map(|x| x.map_or(f64::NAN, Real::get))
            .collect()
    }
}

/// Writes records as JSON Lines.
pub fn write_jsonl<W: Write>(mut w: W, records: &[StepRecord]) -> std::io::Result<()> {
    for r in records {
        writeln!(w, "{}", r.to_json_line())?;
    }
    Ok(())
}

/// Reads JSON Lines records; `path` is used in error messages. Blank lines are skipped.
pub fn read_jsonl<R: BufRead>(r: R, path: &str) -> Result<Vec<StepRecord>, RecordError> {
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.map_err(|source| RecordError::Io {
            path: path.to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| RecordError::Parse {
                path: path.to_string(),
                line: i + 1,
                message: e.to_string(),
            })?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if !version
            .is_some_and(|v| (OLDEST_SCHEMA_VERSION as u64..=SCHEMA_VERSION as u64).contains(&v))
        {
            return Err(RecordError::Version {
                path: path.to_string(),
                line: i + 1,
                found: version.unwrap_or(0) as u32,
            });
        }
        let record = serde_json::from_value(value).map_err(|e| RecordError::Parse {
            path: path.to_string(),
            line: i + 1,
            message: e.to_string(),
        })?;
        out.push(record);
    }
    Ok(out)
}

/// Writes the long CSV (`run,step,layer,quantity,value`) of `records`.
pub fn write_long_csv<W: Write>(
    mut w: W,
    run_name: &str,
    records: &[StepRecord],
) -> std::io::Result<()> {
    writeln!(w, "run,step,layer,quantity,value")?;
    for r in records {
        let run = format!("{run_name}/{}", r.run.name());
        let step_level = [
            ("lr", Some(r.lr.get())),
            ("loss", Some(r.loss.get())),
            ("grad_norm", Some(r.grad_norm.get())),
            ("clipped", Some(if r.clipped { 1.0 } else { 0.0 })),
            ("spectral_product", r.spectral_product.map(Real::get)),
        ];
        for (q, v) in step_level {
            if let Some(v) = v {
                writeln!(w, "{run},{},0,{q},{}", r.step, format_real(v))?;
            }
        }
        if let Some(e) = &r.eval {
            writeln!(w, "{run},{},0,train_loss,{}", r.step, e.train_loss)?;
            writeln!(w, "{run},{},0,test_loss,{}", r.step, e.test_loss)?;
            if let Some(a) = e.test_accuracy {
                writeln!(w, "{run},{},0,test_accuracy,{}", r.step, a)?;
            }
        }
        for (q, values) in r.layers.quantities() {
            for (i, v) in values.into_iter().enumerate() {
                if let Some(v) = v {
                    writeln!(w, "{run},{},{},{q},{}", r.step, i + 1, format_real(v))?;
                }
            }
        }
        for (i, times) in r.layers.act_grad_norm_time.iter().enumerate() {
            for (t, v) in times.iter().enumerate() {
                if let Some(v) = v {
                    let (layer, t) = (i + 1, t + 1);
                    writeln!(w, "{run},{},{layer},act_grad_norm_t{t},{v}", r.step)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nonfinite::NonFiniteKind;

    fn sample() -> StepRecord {
        let r = |v: f64| Some(Real(v));
        StepRecord {
            schema_version: SCHEMA_VERSION,
            run: RunKind::Real,
            step: 7,
            lr: Real(0.1),
            loss: Real(f64::INFINITY),
            grad_norm: Real(f64::NAN),
            clipped: true,
            spectral_product: None,
            layers: LayerSeries {
                act_grad_norm: vec![r(0.25), r(f64::NEG_INFINITY)],
                act_dead: vec![r(0.125), None],
                spectral_norm: vec![None, r(1.5)],
                act_nonfinite: vec![Some(0), Some(12)],
                act_grad_norm_time: vec![vec![], vec![Some(Real(0.5)), Some(Real(f64::INFINITY))]],
                recurrent_spectral_norm: vec![None, r(0.75)],
                recurrent_spectral_radius: vec![None, r(0.5)],
                ..LayerSeries::default()
            },
            eval: None,
            nonfinite: Some(NonFinite {
                step: 7,
                layer: 2,
                layer_name: "blocks.1".into(),
                kind: NonFiniteKind::ForwardActivation,
            }),
        }
    }

    /// Time steps and the recurrent matrices' norms round-trip, appear in the long CSV (time
    /// steps as `act_grad_norm_t<t>` of their layer, the norms only for recurrent layers), and
    /// records of versions 1 and 2 (written before them) still load, without them.
    #[test]
    fn time_steps_and_recurrent_norms_round_trip_and_older_versions_load() {
        let r = sample();
        let mut buf = Vec::new();
        write_jsonl(&mut buf, std::slice::from_ref(&r)).unwrap();
        let back = read_jsonl(&buf[..], "t.jsonl").unwrap();
        assert_eq!(
            back[0].layers.act_grad_norm_time,
            r.layers.act_grad_norm_time
        );
        let mut csv = Vec::new();
        write_long_csv(&mut csv, "x", std::slice::from_ref(&r)).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.contains("x/real,7,2,act_grad_norm_t1,0.5\n"), "{csv}");
        assert!(csv.contains("x/real,7,2,act_grad_norm_t2,inf\n"), "{csv}");
        assert_eq!(
            back[0].layers.recurrent_spectral_norm,
            r.layers.recurrent_spectral_norm
        );
        assert!(
            csv.contains("x/real,7,2,recurrent_spectral_norm,0.75\n"),
            "{csv}"
        );
        assert!(
            csv.contains("x/real,7,2,recurrent_spectral_radius,0.5\n"),
            "{csv}"
        );
        assert!(!csv.contains(",1,recurrent_spectral"), "{csv}");
        // No time steps, no recurrent layer: no such fields at all, so records of feed-forward
        // nets are as before.
        let mut plain = r.clone();
        plain.layers.act_grad_norm_time.clear();
        plain.layers.recurrent_spectral_norm.clear();
        plain.layers.recurrent_spectral_radius.clear();
        let text = serde_json::to_string(&plain).unwrap();
        assert!(!text.contains("act_grad_norm_time"), "{text}");
        assert!(!text.contains("recurrent_spectral"), "{text}");
        let mut csv = Vec::new();
        write_long_csv(&mut csv, "x", std::slice::from_ref(&plain)).unwrap();
        assert!(!String::from_utf8(csv).unwrap().contains("recurrent"));
        let v1 = text.replace(
            &format!("\"schema_version\":{SCHEMA_VERSION}"),
            "\"schema_version\":1",
        );
        let old = read_jsonl(v1.as_bytes(), "v1.jsonl").unwrap();
        assert!(old[0].layers.act_grad_norm_time.is_empty());
        let v2 = serde_json::to_string(&r).unwrap().replace(
            &format!("\"schema_version\":{SCHEMA_VERSION}"),
            "\"schema_version\":2",
        );
        let v2 = v2
            .replace(",\"recurrent_spectral_norm\":[null,0.75]", "")
            .replace(",\"recurrent_spectral_radius\":[null,0.5]", "");
        assert!(!v2.contains("recurrent"), "{v2}");
        let old = read_jsonl(v2.as_bytes(), "v2.jsonl").unwrap();
        assert_eq!(
            old[0].layers.act_grad_norm_time,
            r.layers.act_grad_norm_time
        );
        assert!(old[0].layers.recurrent_spectral_radius.is_empty());
    }

    /// Write, read back, same numbers, non-finite values included.
    #[test]
    fn jsonl_round_trip_keeps_non_finite() {
        let r = sample();
        let mut buf = Vec::new();
        write_jsonl(&mut buf, std::slice::from_ref(&r)).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains(r#""loss":"inf""#), "{text}");
        assert!(text.contains(r#""grad_norm":"NaN""#), "{text}");
        let back = read_jsonl(&buf[..], "t.jsonl").unwrap();
        assert_eq!(back.len(), 1);
        let b = &back[0];
        assert_eq!(b.loss.get(), f64::INFINITY);
        assert!(b.grad_norm.get().is_nan());
        assert_eq!(b.layers.act_grad_norm[1].unwrap().get(), f64::NEG_INFINITY);
        assert_eq!(b.layers.act_grad_norm[0].unwrap().get(), 0.25);
        assert_eq!(b.layers.act_nonfinite, vec![Some(0), Some(12)]);
        assert_eq!(b.nonfinite, r.nonfinite);
        // Everything but NaN compares equal; NaN checked above.
        let mut a = r.clone();
        let mut c = b.clone();
        a.grad_norm = Real(0.0);
        c.grad_norm = Real(0.0);
        assert_eq!(a, c);
    }

    #[test]
    fn bad_lines_name_the_line() {
        let text = format!(
            "{}\n{{\"schema_version\":1,\"run\":\"real\"}}\n",
            sample().to_json_line()
        );
        let err = read_jsonl(text.as_bytes(), "m.jsonl").unwrap_err();
        assert!(err.to_string().starts_with("m.jsonl:2:"), "{err}");
        let err = read_jsonl(&b"{\"schema_version\":99}\n"[..], "m.jsonl").unwrap_err();
        assert!(
            matches!(err, RecordError::Version { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn long_csv_has_one_row_per_number() {
        let mut buf = Vec::new();
        write_long_csv(&mut buf, "demo", &[sample()]).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("run,step,layer,quantity,value\n"));
        assert!(text.contains("demo/real,7,0,loss,inf\n"), "{text}");
        assert!(
            text.contains("demo/real,7,2,act_grad_norm,-inf\n"),
            "{text}"
        );
        assert!(text.contains("demo/real,7,1,act_dead,0.125\n"), "{text}");
        assert!(text.contains("demo/real,7,0,grad_norm,NaN\n"), "{text}");
    }
}

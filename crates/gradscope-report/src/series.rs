//! Numbers taken out of records for plotting: per-layer series, log-scale segments, the
//! baseline's noise band and the running product of spectral norms.

use gradscope_record::{Real, StepRecord};

/// A per-layer quantity as plain floats (`None` where not measured).
pub(crate) fn floats(values: &[Option<Real>]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.map(Real::get)).collect()
}

/// Whether a value can be shown on a log axis.
pub(crate) fn log_ok(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// log10 of the values that can be shown on a log axis.
pub(crate) fn log10_or_none(v: Option<f64>) -> Option<f64> {
    v.filter(|v| log_ok(*v)).map(f64::log10)
}

/// Splits `(x, y)` points into runs of consecutive present values, so that a missing, zero or
/// non-finite value leaves a gap instead of a line across it.
pub(crate) fn segments(
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() => current.push((x, y)),
            _ => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The x positions (1-based layers) where a per-layer series holds NaN or ±inf.
pub(crate) fn nonfinite_layers(values: &[Option<f64>]) -> Vec<f64> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_some_and(|v| !v.is_finite()))
        .map(|(i, _)| (i + 1) as f64)
        .collect()
}

/// The per-layer points (layer, log10 value) of a series, in segments.
pub(crate) fn layer_log_segments(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    segments(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, log10_or_none(*v))),
    )
}

/// The per-layer points (layer, value) of a series, in segments (non-finite values skipped).
pub(crate) fn layer_segments(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    segments(values.iter().enumerate().map(|(i, v)| ((i + 1) as f64, *v)))
}

/// One point of the baseline's band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BandPoint {
    /// The step.
    pub step: f64,
    /// Trailing mean of the baseline loss.
    pub mean: f64,
    /// Trailing standard deviation (population) of the baseline loss.
    pub sd: f64,
}

/// Fewest finite baseline losses for which a band is drawn; below it the raw losses are shown.
pub(crate) const MIN_BAND_POINTS: usize = 3;

/// The baseline's noise band: at each recorded baseline step, the mean ± sd of the finite losses
/// among the last `window` recorded steps (fewer at the start). `None` when there are fewer than
/// [`MIN_BAND_POINTS`] finite losses or the window is shorter than 2: the caller then shows the
/// raw losses.
pub(crate) fn baseline_band(baseline: &[&StepRecord], window: usize) -> Option<Vec<BandPoint>> {
    let losses: Vec<(f64, f64)> = baseline
        .iter()
        .map(|r| (r.step as f64, r.loss.get()))
        .collect();
    let finite = losses.iter().filter(|(_, l)| l.is_finite()).count();
    if finite < MIN_BAND_POINTS || window < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(losses.len());
    for i in 0..losses.len() {
        if !losses[i].1.is_finite() {
            continue;
        }
        let start = (i + 1).saturating_sub(window);
        let vals: Vec<f64> = losses[start..=i]
            .iter()
            .map(|(_, l)| *l)
            .filter(|l| l.is_finite())
            .collect();
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        out.push(BandPoint {
            step: losses[i].0,
            mean,
            sd: var.sqrt(),
        });
    }
    Some(out)
}

/// log10 of the running product ∏_{k≤l} ‖W_k‖₂ over layers, computed as a sum of logs so that
/// it neither overflows nor underflows. Stops (`None` from there on) at the first missing, zero
/// or non-finite norm: the product is undefined beyond it.
pub(crate) fn log_running_product(norms: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut acc = Some(0.0);
    norms
        .iter()
        .map(|n| {
            acc = match (acc, log10_or_none(*n)) {
                (Some(a), Some(l)) => Some(a + l),
                _ => None,
            };
            acc
        })
        .collect()
}

/// log10 of the plain-stack bound on the backward gain from layer l down to layer 1:
/// ∏_{2≤k≤l} γ‖W_k‖₂ (1 at l = 1), since ∂L/∂h_{k−1} = W_kᵀ diag(φ′) ∂L/∂h_k and |φ′| ≤ γ. Stops
/// where a norm is missing, as [`log_running_product`] does.
pub(crate) fn log_backward_bound(norms: &[Option<f64>], gamma: f64) -> Vec<Option<f64>> {
    let mut acc = Some(0.0);
    norms
        .iter()
        .enumerate()
        .map(|(k, n)| {
            if k > 0 {
                acc = match (acc, log10_or_none(n.map(|n| gamma * n))) {
                    (Some(a), Some(l)) => Some(a + l),
                    _ => None,
                };
            }
            acc
        })
        .collect()
}

/// log10 of the measured backward gain from layer l down to layer 1, ‖∂L/∂h₁‖ / ‖∂L/∂hₗ‖.
pub(crate) fn log_backward_gain(act_grad_norms: &[Option<f64>]) -> Vec<Option<f64>> {
    let first = act_grad_norms
        .first()
        .copied()
        .flatten()
        .and_then(|v| log10_or_none(Some(v)));
    act_grad_norms
        .iter()
        .map(|n| Some(first? - log10_or_none(*n)?))
        .collect()
}

/// The largest slope |φ′| of a plain MLP's activation, read from its `config.toml`: the γ of the
/// backward bound. `None` where no such bound holds: residual blocks (the identity path adds to
/// the product) and normalisation (it rescales by the batch's statistics), or a model that is not
/// an MLP, or an activation not known here.
pub(crate) fn activation_slope(config_toml: &str) -> Option<f64> {
    let config: toml::Table = toml::from_str(config_toml).ok()?;
    let model = config.get("model")?.as_table()?;
    let text = |k: &str, default: &str| {
        model
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or(default)
            .to_string()
    };
    let residual = model
        .get("residual")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if text("kind", "mlp") != "mlp" || residual || text("norm", "none") != "none" {
        return None;
    }
    match text("activation", "tanh").as_str() {
        "identity" | "relu" | "leaky_relu" | "tanh" => Some(1.0),
        "sigmoid" => Some(0.25),
        // max over x of the derivative: GELU 1.1289 at x ≈ 0.75, SiLU 1.0998 at x ≈ 2.40.
        "gelu" => Some(1.1289),
        "silu" => Some(1.0998),
        _ => None,
    }
}

/// The smallest and largest of finite values, or `None` when there are none.
pub(crate) fn min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradscope_record::{LayerSeries, RunKind, SCHEMA_VERSION};

    fn rec(step: u64, loss: f64) -> StepRecord {
        StepRecord {
            schema_version: SCHEMA_VERSION,
            run: RunKind::Baseline,
            step,
            lr: Real(0.0),
            loss: Real(loss),
            grad_norm: Real(1.0),
            clipped: false,
            spectral_product: None,
            layers: LayerSeries::default(),
            eval: None,
            nonfinite: None,
        }
    }

    #[test]
    fn segments_break_at_bad_values() {
        let v = [
            Some(1.0),
            Some(10.0),
            Some(0.0),
            None,
            Some(f64::NAN),
            Some(100.0),
            Some(f64::INFINITY),
        ];
        let segs = layer_log_segments(&v);
        assert_eq!(segs, vec![vec![(1.0, 0.0), (2.0, 1.0)], vec![(6.0, 2.0)]]);
        assert_eq!(nonfinite_layers(&v), vec![5.0, 7.0]);
    }

    #[test]
    fn band_is_trailing_mean_and_sd() {
        let recs: Vec<StepRecord> = [1.0, 3.0, 5.0, f64::NAN, 7.0]
            .iter()
            .enumerate()
            .map(|(i, l)| rec(i as u64, *l))
            .collect();
        let refs: Vec<&StepRecord> = recs.iter().collect();
        let band = baseline_band(&refs, 2).unwrap();
        assert_eq!(band.len(), 4);
        assert_eq!(
            band[0],
            BandPoint {
                step: 0.0,
                mean: 1.0,
                sd: 0.0
            }
        );
        assert_eq!(
            band[1],
            BandPoint {
                step: 1.0,
                mean: 2.0,
                sd: 1.0
            }
        );
        assert_eq!(
            band[2],
            BandPoint {
                step: 2.0,
                mean: 4.0,
                sd: 1.0
            }
        );
        // Window [NaN, 7]: only 7 is finite.
        assert_eq!(
            band[3],
            BandPoint {
                step: 4.0,
                mean: 7.0,
                sd: 0.0
            }
        );
        assert!(baseline_band(&refs[..2], 2).is_none());
        assert!(baseline_band(&refs, 1).is_none());
    }

    #[test]
    fn running_product_in_logs() {
        let p = log_running_product(&[Some(10.0), Some(100.0), Some(0.1), None, Some(10.0)]);
        assert_eq!(p, vec![Some(1.0), Some(3.0), Some(2.0), None, None]);
        let huge = log_running_product(&[Some(1e300); 4]);
        assert_eq!(huge[3], Some(1200.0));
    }
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    fn close(a: &[Option<f64>], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.is_some_and(|x| (x - y).abs() < 1e-12))
    }

    /// A sigmoid stack of spectral norm 2 per layer: each layer below the first can pass at most
    /// 1/4 × 2 = 1/2 of the gradient, so the bound halves per layer; the measured gain is the
    /// ratio of the first layer's ‖∂L/∂h‖ to each layer's.
    #[test]
    fn the_bound_multiplies_each_norm_by_the_slope_and_the_gain_is_a_ratio() {
        let norms = [Some(2.0), Some(2.0), Some(2.0), Some(2.0)];
        let half = 0.5f64.log10();
        assert!(close(
            &log_backward_bound(&norms, 0.25),
            &[0.0, half, 2.0 * half, 3.0 * half]
        ));
        assert!(close(
            &log_backward_gain(&[Some(1e-6), Some(1e-4), Some(1e-2), Some(1.0)]),
            &[0.0, -2.0, -4.0, -6.0]
        ));
        // A missing norm ends the bound there.
        assert_eq!(
            log_backward_bound(&[Some(2.0), None, Some(2.0)], 1.0)[1..],
            [None, None]
        );
    }

    #[test]
    fn the_slope_comes_from_the_config_and_only_plain_stacks_have_one() {
        let plain = "[model]\nkind = \"mlp\"\nactivation = \"sigmoid\"\nresidual = false\nnorm = \"none\"\n";
        assert_eq!(activation_slope(plain), Some(0.25));
        assert_eq!(
            activation_slope(&plain.replace("sigmoid", "relu")),
            Some(1.0)
        );
        assert_eq!(
            activation_slope(&plain.replace("residual = false", "residual = true")),
            None
        );
        assert_eq!(
            activation_slope(&plain.replace("\"none\"", "\"batch\"")),
            None
        );
        assert_eq!(activation_slope(""), None);
    }
}

//! The learning signal: is the real run learning, or only moving the way a learning-rate-zero
//! run with the same weights and batches moves?
//!
//! The baseline sees the same batches from the same weights but never updates, so its loss
//! varies only with the batch: that variation is the noise band. At every step t past the first
//! window, over the trailing `window` steps,
//!
//! `z(t) = (mean baseline loss − mean real loss) / sd(baseline loss)`,
//!
//! and the real run is *outside the band* when `z > threshold`. The verdict is `learning` when
//! both hold:
//!
//! 1. **sustained**: from some step on, z stays above the threshold until the end of the run
//!    (`first_step_outside_band`);
//! 2. **beyond chance**: on the test split the real model beats the best constant prediction (the
//!    majority class, or the training-target mean for regression) by more than three standard
//!    errors of the per-sample difference.
//!
//! Condition 2 is what the lecture's trap needs. A net whose gradients vanish still lowers its
//! loss at first, by fitting the output layer's bias to the class frequencies (or the target
//! mean): its loss leaves the baseline's band and stays out, so condition 1 alone would call it
//! learning. But that fit is exactly the best constant prediction, so it cannot beat chance on
//! the test split. The report also gives the gap early (at a quarter of the run) and late (the
//! last window): a gap that stops growing after the early phase is the same trap seen from the
//! training loss.

use gradscope_diagnostics::Real;

pub use gradscope_record::{LearningSignal, Verdict, VersusChance};

/// Compares per-sample scores of the model against those of the constant predictor
/// (`higher_is_better` for accuracy, not for squared error): the mean paired difference in
/// standard errors, and whether it exceeds three.
pub fn versus_chance(
    metric: &str,
    model: &[f64],
    chance: &[f64],
    higher_is_better: bool,
) -> VersusChance {
    let n = model.len().min(chance.len()).max(1) as f64;
    let diffs: Vec<f64> = model
        .iter()
        .zip(chance)
        .map(|(m, c)| if higher_is_better { m - c } else { c - m })
        .collect();
    let mean_diff = diffs.iter().sum::<f64>() / n;
    let var = diffs.iter().map(|d| (d - mean_diff).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let se = (var / n).sqrt();
    let standard_errors = if se > 0.0 {
        mean_diff / se
    } else if mean_diff > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    VersusChance {
        metric: metric.to_string(),
        model: Real(model.iter().sum::<f64>() / n),
        chance: Real(chance.iter().sum::<f64>() / n),
        standard_errors: Real(standard_errors),
        beats_chance: standard_errors > 3.0,
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn sd(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0).max(1.0)).sqrt()
}

/// z over the trailing window ending at each step (`None` before the first full window).
pub fn z_series(real: &[f64], baseline: &[f64], window: usize) -> Vec<Option<f64>> {
    let n = real.len().min(baseline.len());
    (0..n)
        .map(|t| {
            if t + 1 < window {
                return None;
            }
            let r = &real[t + 1 - window..=t];
            let b = &baseline[t + 1 - window..=t];
            let spread = sd(b).max(1e-9 * mean(b).abs()).max(f64::MIN_POSITIVE);
            Some((mean(b) - mean(r)) / spread)
        })
        .collect()
}

/// Computes the learning signal from per-step losses (same length, same batches).
pub fn learning_signal(
    real: &[f64],
    baseline: &[f64],
    window: usize,
    threshold: f64,
    versus_chance: Option<VersusChance>,
) -> LearningSignal {
    let n = real.len().min(baseline.len());
    let window = window.min(n.max(2)).max(2);
    let z = z_series(real, baseline, window);
    let mut first = None;
    for (t, zt) in z.iter().enumerate().rev() {
        match zt {
            Some(v) if *v > threshold => first = Some(t as u64),
            _ => break,
        }
    }
    let gap_at = |end: usize| {
        (end + 1 >= window && end < n).then(|| {
            let s = end + 1 - window;
            mean(&baseline[s..=end]) - mean(&real[s..=end])
        })
    };
    let early = gap_at((n / 4).max(window - 1));
    let late = n.checked_sub(1).and_then(gap_at);
    LearningSignal {
        z: Real(z.last().copied().flatten().unwrap_or(f64::NAN)),
        first_step_outside_band: first,
        window,
        threshold,
        gap_early: early.map(Real),
        gap_late: late.map(Real),
        gap_growing: early.zip(late).map(|(e, l)| {
            let noise = sd(&baseline[n - window..n]) * (2.0 / window as f64).sqrt();
            l - e > 2.0 * noise
        }),
        versus_chance,
    }
}

/// The verdict: `learning` or `indistinguishable` (see the module docs for the rule).
pub fn verdict(signal: &LearningSignal) -> Verdict {
    let sustained = signal.first_step_outside_band.is_some();
    let beyond_chance = signal.versus_chance.as_ref().is_none_or(|v| v.beats_chance);
    if sustained && beyond_chance {
        Verdict::Learning
    } else {
        Verdict::Indistinguishable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic "noise": a fixed pseudo-random sequence in [−0.5, 0.5).
    fn noise(n: usize) -> Vec<f64> {
        let mut s: u64 = 12345;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
            })
            .collect()
    }

    #[test]
    fn pure_noise_is_indistinguishable() {
        let e = noise(400);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let real = base.clone();
        let s = learning_signal(&real, &base, 50, 3.0, None);
        assert_eq!(s.first_step_outside_band, None);
        assert_eq!(verdict(&s), Verdict::Indistinguishable);
    }

    #[test]
    fn steady_decrease_is_learning_from_some_step() {
        let e = noise(400);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let real: Vec<f64> = (0..400)
            .map(|t| base[t] - 1.5 * (t as f64 / 400.0))
            .collect();
        let chance = versus_chance("accuracy", &[1.0; 100], &[0.0; 100], true);
        let s = learning_signal(&real, &base, 50, 3.0, Some(chance));
        let first = s.first_step_outside_band.unwrap();
        // The earliest possible step is the end of the first window (49).
        assert!((49..300).contains(&first), "{first}");
        assert_eq!(s.gap_growing, Some(true));
        assert_eq!(verdict(&s), Verdict::Learning);
    }

    /// The trap: an early drop that then plateaus leaves the band, but a model no better than
    /// the constant prediction is not learning.
    #[test]
    fn early_drop_then_plateau_at_chance_is_indistinguishable() {
        let e = noise(400);
        let base: Vec<f64> = e.iter().map(|x| 2.3 + 0.05 * x).collect();
        let real: Vec<f64> = (0..400)
            .map(|t| base[t] - 0.1 * (1.0 - (-(t as f64) / 20.0).exp()))
            .collect();
        let acc_model: Vec<f64> = (0..300).map(|i| f64::from(i % 10 == 0)).collect();
        let chance = versus_chance("accuracy", &acc_model, &acc_model, true);
        let s = learning_signal(&real, &base, 50, 3.0, Some(chance));
        assert!(
            s.first_step_outside_band.is_some(),
            "the early drop does leave the band"
        );
        assert_eq!(s.gap_growing, Some(false));
        assert_eq!(verdict(&s), Verdict::Indistinguishable);
    }
}

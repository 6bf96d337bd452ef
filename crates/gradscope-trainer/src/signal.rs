//! The learning signal: is the real run learning, or only moving the way a learning-rate-zero
//! run with the same weights and batches moves?
//!
//! The baseline sees the same batches from the same weights but never updates, so its loss
//! varies only with the batch: that variation is the noise band. At every step t past the first
//! window, over the trailing `window` steps,
//!
//! `z(t) = (mean baseline loss − mean real loss) / sd(baseline loss)`,
//!
//! and the real run is *outside the band* when `z > threshold`. In the first `window` steps the
//! window is every step so far (at least three), so that an early departure is seen early.
//! **Left the band at step N** (`first_step_outside_band`) means: z is above the threshold at N
//! and at every step after it, to the end of the run. The verdict ([`verdict`]) is, in order:
//!
//! - `diverged` when a non-finite value ended the run or the loss spiked;
//! - `indistinguishable` when the run never left the band for good;
//! - `bias_only` when it left the band, but on the test split it does not beat the best constant
//!   prediction (the majority class, or the training-target mean for regression) by more than
//!   three standard errors of the per-sample difference;
//! - `learning` when it left the band and beats the constant prediction.
//!
//! Condition 2 is what the lecture's trap needs. A net whose gradients vanish still lowers its
//! loss at first, by fitting the output layer's bias to the class frequencies (or the target
//! mean): its loss leaves the baseline's band and stays out, so condition 1 alone would call it
//! learning. But that fit is exactly the best constant prediction, so it cannot beat chance on
//! the test split. The report also gives the gap early (at a quarter of the run) and late (the
//! last window): a gap that stops growing after the early phase is the same trap seen from the
//! training loss.

use gradscope_diagnostics::Real;

pub use gradscope_record::{
    FinalMetrics, HeadOnlyControl, LearningSignal, SignalPoint, Verdict, VersusChance,
};

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

/// The fewest steps z is computed over (an sd from fewer is meaningless).
const MIN_WINDOW: usize = 3;

/// Most points kept in [`LearningSignal::trace`].
const TRACE_POINTS: usize = 400;

/// The window ending at step `t`: the last `window` steps, or every step so far while there are
/// fewer (`None` before [`MIN_WINDOW`] steps). Returns (real mean, baseline mean, baseline sd).
fn window_at(real: &[f64], baseline: &[f64], window: usize, t: usize) -> Option<(f64, f64, f64)> {
    if t + 1 < MIN_WINDOW.min(window) {
        return None;
    }
    let start = (t + 1).saturating_sub(window);
    let b = &baseline[start..=t];
    let spread = sd(b).max(1e-9 * mean(b).abs()).max(f64::MIN_POSITIVE);
    Some((mean(&real[start..=t]), mean(b), spread))
}

/// z over the window ending at each step (see [`window_at`]).
pub fn z_series(real: &[f64], baseline: &[f64], window: usize) -> Vec<Option<f64>> {
    let n = real.len().min(baseline.len());
    (0..n)
        .map(|t| window_at(real, baseline, window, t).map(|(r, b, s)| (b - r) / s))
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
        trace: trace(real, baseline, window, first),
    }
}

/// The windows behind z at evenly spaced steps, plus the first step outside the band and the last.
fn trace(real: &[f64], baseline: &[f64], window: usize, first: Option<u64>) -> Vec<SignalPoint> {
    let n = real.len().min(baseline.len());
    let stride = n.div_ceil(TRACE_POINTS).max(1);
    (0..n)
        .filter(|&t| t % stride == 0 || t + 1 == n || Some(t as u64) == first)
        .filter_map(|t| {
            window_at(real, baseline, window, t).map(|(r, b, s)| SignalPoint {
                step: t as u64,
                real_mean: Real(r),
                baseline_mean: Real(b),
                baseline_sd: Real(s),
                head_only_mean: None,
            })
        })
        .collect()
}

/// Adds the head-only arm's windowed mean loss to every point of the trace, over the same
/// window as the point's other means, so the loss plot draws the three arms alike.
pub fn attach_head_only(signal: &mut LearningSignal, head_only: &[f64]) {
    let window = signal.window;
    for p in &mut signal.trace {
        let t = p.step as usize;
        if t < head_only.len() {
            let start = (t + 1).saturating_sub(window);
            p.head_only_mean = Some(Real(mean(&head_only[start..=t])));
        }
    }
}

/// The head-only control: the real run against the arm in which only the output head learned,
/// per sample on the test split (`higher_is_better` for accuracy). The layers below the head
/// contributed when the real run is better by more than three standard errors of the paired
/// difference, the same test as the one against the constant prediction.
pub fn head_only_control(
    metric: &str,
    real: &[f64],
    head_only: &[f64],
    higher_is_better: bool,
    finals: FinalMetrics,
) -> HeadOnlyControl {
    let c = versus_chance(metric, real, head_only, higher_is_better);
    let value = |x: f64| {
        if metric == "accuracy" {
            format!("{:.1} %", 100.0 * x)
        } else {
            short(x)
        }
    };
    let numbers = format!(
        "test {metric} {} against {} when only the output head learns ({} standard errors)",
        value(c.model.get()),
        value(c.chance.get()),
        short(c.standard_errors.get())
    );
    let reason = if c.beats_chance {
        format!("the layers below the head contributed: {numbers}")
    } else {
        format!("the layers below the head did not contribute: {numbers}")
    };
    HeadOnlyControl {
        finals,
        metric: metric.to_string(),
        real: c.model,
        head_only: c.chance,
        standard_errors: c.standard_errors,
        layers_contributed: c.beats_chance,
        reason,
    }
}

/// A number for a sentence: 3 significant figures, and beyond ±1000 only its side.
fn short(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() >= 1000.0 {
        return if x > 0.0 { "> 1000" } else { "< −1000" }.to_string();
    }
    gradscope_record::format_sig(x, 3)
}

fn chance_words(c: &VersusChance) -> String {
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let (model, chance) = if c.metric == "accuracy" {
        (pct(c.model.get()), pct(c.chance.get()))
    } else {
        (short(c.model.get()), short(c.chance.get()))
    };
    format!(
        "test {} {model} against the constant prediction's {chance} ({} standard errors)",
        c.metric,
        short(c.standard_errors.get())
    )
}

/// The verdict and its reason in words (see the module docs for the rule). `diverged` says what
/// wrecked the run (a non-finite value, loss spikes), when something did; the signal is `None`
/// without a baseline, and then only `diverged` can be said.
pub fn verdict(
    signal: Option<&LearningSignal>,
    diverged: Option<String>,
) -> Option<(Verdict, String)> {
    if let Some(why) = diverged {
        return Some((Verdict::Diverged, why));
    }
    let signal = signal?;
    let z = short(signal.z.get());
    let threshold = signal.threshold;
    let Some(step) = signal.first_step_outside_band else {
        return Some((
            Verdict::Indistinguishable,
            format!(
                "never left the learning-rate-0 band for good (z = {z} at the end; the band is z ≤ {threshold})"
            ),
        ));
    };
    let left = format!("left the learning-rate-0 band at step {step} and stayed out (z = {z})");
    match &signal.versus_chance {
        Some(c) if !c.beats_chance => Some((
            Verdict::BiasOnly,
            format!(
                "{left}, but is no better than predicting the class frequencies or the mean: {} — only the output layer's bias learned",
                chance_words(c)
            ),
        )),
        Some(c) => Some((Verdict::Learning, format!("{left}; {}", chance_words(c)))),
        None => Some((Verdict::Learning, left)),
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

    fn finals() -> FinalMetrics {
        FinalMetrics {
            train_loss: Real(1.0),
            test_loss: Real(1.0),
            test_accuracy: None,
            train_accuracy: None,
        }
    }

    /// 100 test rows; the real run is right on 60, the head-only arm on 30 (its hits a subset):
    /// the paired difference is 0.3 with sd √(0.3·0.7·100/99) ≈ 0.46, so 0.3/(0.46/10) ≈ 6.5
    /// standard errors: contributed. Equal hits: 0 standard errors, not contributed.
    #[test]
    fn head_only_control_counts_standard_errors() {
        let real: Vec<f64> = (0..100).map(|i| f64::from(i < 60)).collect();
        let head: Vec<f64> = (0..100).map(|i| f64::from(i < 30)).collect();
        let c = head_only_control("accuracy", &real, &head, true, finals());
        assert!(c.layers_contributed);
        let want = 0.3 / ((0.3f64 * 0.7 * 100.0 / 99.0).sqrt() / 10.0);
        assert!((c.standard_errors.get() - want).abs() < 1e-9, "{:?}", c);
        assert!(
            c.reason.starts_with(
                "the layers below the head contributed: test accuracy 60.0 % against 30.0 %"
            ),
            "{}",
            c.reason
        );
        let same = head_only_control("accuracy", &real, &real, true, finals());
        assert!(!same.layers_contributed);
        assert!(
            same.reason
                .starts_with("the layers below the head did not contribute")
        );
        // Lower is better for squared errors: a real run with smaller errors contributed.
        let se_real = vec![0.1; 50];
        let se_head: Vec<f64> = (0..50).map(|i| 1.0 + 0.01 * i as f64).collect();
        assert!(head_only_control("mse", &se_real, &se_head, false, finals()).layers_contributed);
        assert!(!head_only_control("mse", &se_head, &se_real, false, finals()).layers_contributed);
    }

    /// The head-only mean at each trace point is the mean over that point's window.
    #[test]
    fn head_only_means_use_the_trace_windows() {
        let e = noise(100);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let head: Vec<f64> = (0..100).map(|t| t as f64).collect();
        let mut s = learning_signal(&base, &base, 10, 3.0, None);
        attach_head_only(&mut s, &head);
        for p in &s.trace {
            let t = p.step as f64;
            let start = (t - 9.0).max(0.0);
            let want = (start + t) / 2.0;
            assert_eq!(p.head_only_mean, Some(Real(want)), "step {t}");
        }
    }

    #[test]
    fn pure_noise_is_indistinguishable() {
        let e = noise(400);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let real = base.clone();
        let s = learning_signal(&real, &base, 50, 3.0, None);
        assert_eq!(s.first_step_outside_band, None);
        assert_eq!(
            verdict(Some(&s), None).unwrap().0,
            Verdict::Indistinguishable
        );
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
        assert!((2..300).contains(&first), "{first}");
        assert_eq!(s.gap_growing, Some(true));
        let (v, why) = verdict(Some(&s), None).unwrap();
        assert_eq!(v, Verdict::Learning);
        assert!(why.contains(&format!("at step {first}")), "{why}");
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
        let (v, why) = verdict(Some(&s), None).unwrap();
        assert_eq!(v, Verdict::BiasOnly);
        assert!(why.contains("no better than"), "{why}");
    }

    /// "Left the band at step N" is the step the loss left, not the window's length: a loss that
    /// drops by 10 noise widths at step 20 has left by step 25, and one that leaves and comes back
    /// has not left for good.
    #[test]
    fn the_step_the_loss_leaves_the_band_is_found() {
        let e = noise(400);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let real: Vec<f64> = (0..400)
            .map(|t| base[t] - if t >= 20 { 1.0 } else { 0.0 })
            .collect();
        let s = learning_signal(&real, &base, 50, 3.0, None);
        let first = s.first_step_outside_band.unwrap();
        assert!((20..=25).contains(&first), "{first}");
        // Out from step 20 to 300, back in the band after: not out for good.
        let back: Vec<f64> = (0..400)
            .map(|t| base[t] - if (20..300).contains(&t) { 1.0 } else { 0.0 })
            .collect();
        let s = learning_signal(&back, &base, 50, 3.0, None);
        assert_eq!(s.first_step_outside_band, None);
    }

    /// The trace says exactly what z says: outside the band where the real mean is below the
    /// baseline mean by more than the threshold's sds.
    #[test]
    fn the_trace_agrees_with_the_verdict() {
        let e = noise(1000);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let real: Vec<f64> = (0..1000)
            .map(|t| base[t] - 0.5 * (t as f64 / 1000.0))
            .collect();
        let s = learning_signal(&real, &base, 50, 3.0, None);
        assert!(s.trace.len() <= TRACE_POINTS + 2, "{}", s.trace.len());
        let first = s.first_step_outside_band.unwrap();
        assert!(s.trace.iter().any(|p| p.step == first));
        assert_eq!(s.trace.last().unwrap().step, 999);
        let z = z_series(&real, &base, 50);
        for p in &s.trace {
            let outside = p.real_mean.get() < p.baseline_mean.get() - 3.0 * p.baseline_sd.get();
            assert_eq!(
                outside,
                z[p.step as usize].unwrap() > 3.0,
                "step {}",
                p.step
            );
        }
    }

    #[test]
    fn a_diverged_run_says_so_whatever_the_signal() {
        let e = noise(100);
        let base: Vec<f64> = e.iter().map(|x| 2.0 + 0.1 * x).collect();
        let s = learning_signal(&base, &base, 50, 3.0, None);
        let (v, why) = verdict(Some(&s), Some("a NaN at step 3".into())).unwrap();
        assert_eq!((v, why.as_str()), (Verdict::Diverged, "a NaN at step 3"));
        assert_eq!(verdict(None, None), None);
        assert_eq!(
            verdict(None, Some("x".into())).unwrap().0,
            Verdict::Diverged
        );
    }

    #[test]
    fn huge_z_is_written_by_its_side() {
        assert_eq!(short(-3.899e33), "< −1000");
        assert_eq!(short(6.2345), "6.23");
    }
}

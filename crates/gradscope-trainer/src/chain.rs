//! `gradscope chain`: the lecture's scalar chain measured beside its closed forms.

use burn::tensor::{Device, Tensor};
use gradscope_diagnostics::{Real, Tap};
use gradscope_model::{
    Activation, ChainConfig, ForwardCtx, LayerInfo, LayerObserver, Network,
    chain_activation_closed_form, chain_fixed_point, chain_grad_closed_form, chain_reference,
};
use serde::Serialize;

/// One layer of the chain report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainLayer {
    /// Layer k (1-based).
    pub index: usize,
    /// h_k from the forward pass (f32).
    pub activation: Real,
    /// wᵏx + b(1−wᵏ)/(1−w) (x + kb at w = 1), in f64; with an activation φ, the recurrence
    /// computed in f64.
    pub activation_closed_form: Real,
    /// ∂h_N/∂h_k from burn's autodiff.
    pub grad: Real,
    /// w^(N−k), in f64; with an activation, the product of w·φ'(h_j) in f64.
    pub grad_closed_form: Real,
    /// The measured factor of this step, ∂h_N/∂h_k ÷ ∂h_N/∂h_(k+1) (`null` at k = N).
    pub step_factor: Option<Real>,
}

/// Where the chain with an activation settles, and what a step does to the gradient there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FixedPoint {
    /// a* = w·φ(a*) + b.
    pub a: Real,
    /// λ = w·φ'(a*).
    pub lambda: Real,
}

/// The whole chain report (`gradscope chain --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainReport {
    /// N.
    pub depth: usize,
    /// w.
    pub w: f64,
    /// b.
    pub b: f64,
    /// x.
    pub x: f64,
    /// φ (`null`: the linear chain).
    pub activation: Option<Activation>,
    /// The fixed point and its per-step factor, for a chain with an activation that settles.
    pub fixed_point: Option<FixedPoint>,
    /// Per layer.
    pub layers: Vec<ChainLayer>,
}

/// Keeps each layer's value while the tap records its gradient.
struct ValueTap {
    tap: Tap,
    values: Vec<Tensor<2>>,
}

impl LayerObserver for ValueTap {
    fn observe(&mut self, info: LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        self.values.push(h.clone().detach());
        self.tap.observe(info, h)
    }
}

/// Runs the tied chain of `depth` layers from `x` on `device` (an autodiff device), with the
/// activation φ in `h_k = w·φ(h_{k−1}) + b` when one is given.
pub fn chain_report(
    depth: usize,
    w: f64,
    b: f64,
    x: f64,
    activation: Option<Activation>,
    device: &Device,
) -> ChainReport {
    let chain = ChainConfig {
        depth,
        w,
        b,
        tied: true,
        head: None,
        activation,
    }
    .init(device);
    let reference = activation.map(|a| chain_reference(w, b, x, depth, a));
    let mut obs = ValueTap {
        tap: Tap::new(false),
        values: Vec::new(),
    };
    let input = Tensor::<2>::from_floats([[x as f32]], device);
    let out = chain.forward_observed(input, &ForwardCtx::EVAL, &mut obs);
    let grads = out.sum().backward();
    let measured: Vec<f64> = (1..=depth)
        .map(|k| {
            obs.tap
                .activation_grad(k, &grads)
                .map_or(f64::NAN, |g| g.into_scalar::<f32>() as f64)
        })
        .collect();
    let layers = (1..=depth)
        .map(|k| {
            let value = obs.values[k - 1].clone().into_scalar::<f32>() as f64;
            let (value_ref, grad_ref) = match &reference {
                Some((h, g)) => (h[k - 1], g[k - 1]),
                None => (
                    chain_activation_closed_form(w, b, x, k),
                    chain_grad_closed_form(w, depth, k),
                ),
            };
            ChainLayer {
                index: k,
                activation: Real(value),
                activation_closed_form: Real(value_ref),
                grad: Real(measured[k - 1]),
                grad_closed_form: Real(grad_ref),
                step_factor: (k < depth).then(|| Real(measured[k - 1] / measured[k])),
            }
        })
        .collect();
    ChainReport {
        depth,
        w,
        b,
        x,
        activation,
        fixed_point: activation
            .and_then(|a| chain_fixed_point(w, b, x, a))
            .map(|(a, lambda)| FixedPoint {
                a: Real(a),
                lambda: Real(lambda),
            }),
        layers,
    }
}

fn rel_err(got: f64, want: f64) -> String {
    if !got.is_finite() || !want.is_finite() {
        return "-".into();
    }
    if want == 0.0 {
        return format!("{:.1e}", got.abs());
    }
    format!("{:.1e}", ((got - want) / want).abs())
}

/// The report as a table for people.
pub fn chain_table(r: &ChainReport) -> String {
    if let Some(a) = r.activation {
        return activation_chain_table(r, a);
    }
    let mut s = format!(
        "scalar chain h_k = w*h_(k-1) + b, N = {}, w = {}, b = {}, x = {}\n\
         forward: h_k = w^k x + b(1-w^k)/(1-w); backward: dh_N/dh_k = w^(N-k)\n\n",
        r.depth, r.w, r.b, r.x
    );
    s.push_str(&layer_rows(r, "closed form", "w^(N-k)", false));
    let first = r.layers.first().map_or(f64::NAN, |l| l.grad.get().abs());
    let verdict = if r.w.abs() < 1.0 {
        format!(
            "|w| < 1: the gradient reaching layer 1 is {} of the output's: it vanishes",
            fmt(first)
        )
    } else if r.w.abs() > 1.0 {
        format!(
            "|w| > 1: the gradient reaching layer 1 is {} times the output's: it explodes",
            fmt(first)
        )
    } else {
        "|w| = 1: the gradient passes every layer unchanged".into()
    };
    s.push('\n');
    s.push_str(&verdict);
    s.push('\n');
    s
}

/// The per-layer rows of both tables: h_k and ∂h_N/∂h_k beside their references (headed
/// `value_ref` and `grad_ref`), and the measured per-step factor when `factor` is set.
fn layer_rows(r: &ChainReport, value_ref: &str, grad_ref: &str, factor: bool) -> String {
    let line = |cells: [String; 7], last: Option<String>| {
        let [k, h, hr, he, g, gr, ge] = cells;
        let mut row = format!("{k:>5}  {h:>14} {hr:>14} {he:>8}  {g:>14} {gr:>14} {ge:>8}");
        if let Some(f) = last {
            row.push_str(&format!("  {f:>10}"));
        }
        row.push('\n');
        row
    };
    let header = [
        "k",
        "h_k",
        value_ref,
        "rel.err",
        "dh_N/dh_k",
        grad_ref,
        "rel.err",
    ];
    let mut s = line(header.map(str::to_string), factor.then(|| "factor".into()));
    for l in &r.layers {
        s.push_str(&line(
            [
                l.index.to_string(),
                fmt(l.activation.get()),
                fmt(l.activation_closed_form.get()),
                rel_err(l.activation.get(), l.activation_closed_form.get()),
                fmt(l.grad.get()),
                fmt(l.grad_closed_form.get()),
                rel_err(l.grad.get(), l.grad_closed_form.get()),
            ],
            factor.then(|| {
                l.step_factor
                    .map_or("-".into(), |f| gradscope_record::format_sig(f.get(), 4))
            }),
        ));
    }
    s
}

/// The chain with an activation: each layer against the f64 recurrence, the measured per-step
/// factor, and the fixed point's λ that the factor tends to.
fn activation_chain_table(r: &ChainReport, a: Activation) -> String {
    let mut s = format!(
        "scalar chain h_k = w*{a}(h_(k-1)) + b, N = {}, w = {}, b = {}, x = {}\n\
         reference: the same recurrence and its gradient in f64; factor: dh_N/dh_k / dh_N/dh_(k+1)\n\n",
        r.depth, r.w, r.b, r.x
    );
    s.push_str(&layer_rows(r, "reference", "reference", true));
    s.push('\n');
    match r.fixed_point {
        Some(fp) => {
            let last = r
                .layers
                .iter()
                .rev()
                .find_map(|l| l.step_factor)
                .map_or(f64::NAN, Real::get);
            let lambda = fp.lambda.get();
            s.push_str(&format!(
                "fixed point a* = w*{a}(a*) + b = {:.4}: each step scales the gradient by lambda = w*{a}'(a*) = {:.4}; \
                 the last measured factor is {:.4} (rel.err {})\n",
                fp.a.get(),
                lambda,
                last,
                rel_err(last, lambda)
            ));
            s.push_str(&if lambda.abs() < 1.0 {
                format!(
                    "|lambda| < 1: the gradient vanishes through the chain, whatever |w| = {} is\n",
                    r.w.abs()
                )
            } else {
                "|lambda| >= 1: the gradient does not shrink\n".to_string()
            });
        }
        None => s.push_str(
            "the chain does not settle at a fixed point (|lambda| >= 1 or an oscillation)\n",
        ),
    }
    s
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.6e}")
    } else {
        format!("{v:.8}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bengio et al. 1994's chain, w = 2 with tanh: autodiff's per-step factor converges to the
    /// fixed point's λ = 0.1664 to 1e-3 (the chain reaches a* within ~15 steps and the error
    /// shrinks by about λ per step; f32 rounding is ~1e-6), and every measured gradient matches
    /// the f64 product to f32 accuracy compounded over 40 steps (1e-4). 40 steps keep the
    /// smallest gradient, λ³⁹ ≈ 4e-31, in f32's normal range (a longer chain underflows into
    /// subnormals, which carry fewer digits).
    #[test]
    fn tanh_chain_factor_converges_to_lambda() {
        let device = gradscope_model::BackendKind::Ndarray.autodiff_device();
        let r = chain_report(40, 2.0, 0.0, 0.5, Some(Activation::Tanh), &device);
        let fp = r.fixed_point.unwrap();
        assert!((fp.lambda.get() - 0.1664).abs() < 5e-5, "{fp:?}");
        for l in &r.layers[19..39] {
            let f = l.step_factor.unwrap().get();
            assert!(
                ((f - fp.lambda.get()) / fp.lambda.get()).abs() < 1e-3,
                "k={}: {f}",
                l.index
            );
        }
        for l in &r.layers {
            let (g, want) = (l.grad.get(), l.grad_closed_form.get());
            assert!(
                ((g - want) / want).abs() < 1e-4,
                "k={}: {g} vs {want}",
                l.index
            );
        }
        let table = chain_table(&r);
        assert!(table.contains("lambda = w*tanh'(a*) = 0.1664"), "{table}");
        assert!(
            table.contains("vanishes through the chain, whatever |w| = 2"),
            "{table}"
        );
    }
}

//! `gradscope chain`: the lecture's scalar chain measured beside its closed forms.

use burn::tensor::{Device, Tensor};
use gradscope_diagnostics::{Real, Tap};
use gradscope_model::{
    ChainConfig, ForwardCtx, LayerInfo, LayerObserver, Network, chain_activation_closed_form,
    chain_grad_closed_form,
};
use serde::Serialize;

/// One layer of the chain report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainLayer {
    /// Layer k (1-based).
    pub index: usize,
    /// h_k from the forward pass (f32).
    pub activation: Real,
    /// wᵏx + b(1−wᵏ)/(1−w) (x + kb at w = 1), in f64.
    pub activation_closed_form: Real,
    /// ∂h_N/∂h_k from burn's autodiff.
    pub grad: Real,
    /// w^(N−k), in f64.
    pub grad_closed_form: Real,
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

/// Runs the tied chain of `depth` layers from `x` on `device` (an autodiff device).
pub fn chain_report(depth: usize, w: f64, b: f64, x: f64, device: &Device) -> ChainReport {
    let chain = ChainConfig {
        depth,
        w,
        b,
        tied: true,
        head: None,
    }
    .init(device);
    let mut obs = ValueTap {
        tap: Tap::new(false),
        values: Vec::new(),
    };
    let input = Tensor::<2>::from_floats([[x as f32]], device);
    let out = chain.forward_observed(input, &ForwardCtx::EVAL, &mut obs);
    let grads = out.sum().backward();
    let layers = (1..=depth)
        .map(|k| {
            let value = obs.values[k - 1].clone().into_scalar::<f32>() as f64;
            let grad = obs
                .tap
                .activation_grad(k, &grads)
                .map_or(f64::NAN, |g| g.into_scalar::<f32>() as f64);
            ChainLayer {
                index: k,
                activation: Real(value),
                activation_closed_form: Real(chain_activation_closed_form(w, b, x, k)),
                grad: Real(grad),
                grad_closed_form: Real(chain_grad_closed_form(w, depth, k)),
            }
        })
        .collect();
    ChainReport {
        depth,
        w,
        b,
        x,
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
    let mut s = format!(
        "scalar chain h_k = w*h_(k-1) + b, N = {}, w = {}, b = {}, x = {}\n\
         forward: h_k = w^k x + b(1-w^k)/(1-w); backward: dh_N/dh_k = w^(N-k)\n\n",
        r.depth, r.w, r.b, r.x
    );
    s.push_str(&format!(
        "{:>5}  {:>14} {:>14} {:>8}  {:>14} {:>14} {:>8}\n",
        "k", "h_k", "closed form", "rel.err", "dh_N/dh_k", "w^(N-k)", "rel.err"
    ));
    for l in &r.layers {
        s.push_str(&format!(
            "{:>5}  {:>14} {:>14} {:>8}  {:>14} {:>14} {:>8}\n",
            l.index,
            fmt(l.activation.get()),
            fmt(l.activation_closed_form.get()),
            rel_err(l.activation.get(), l.activation_closed_form.get()),
            fmt(l.grad.get()),
            fmt(l.grad_closed_form.get()),
            rel_err(l.grad.get(), l.grad_closed_form.get()),
        ));
    }
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

//! The diagnostics checked against mathematics. Every tolerance below comes from the sampling
//! error of the quantity at the stated width, batch and number of seeds (derived next to each
//! test), not from what the code happened to print.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Distribution, Tensor};
use gradscope_diagnostics::{
    BATCHNORM_RELU_FACTOR, NonFiniteKind, RecordOptions, StepMeasure, Tap, TapMode, TheoryCase,
    locate, probe,
};
use gradscope_model::{
    Activation, ChainConfig, ForwardCtx, InitKind, MlpConfig, ModelSpec, Network, NoObserver,
    NormKind, WeightInit, collect_params, with_seed,
};

fn device() -> Device {
    gradscope_model::BackendKind::Ndarray.autodiff_device()
}

/// Probe a model at init with a random linear read-out loss L = Σ y ⊙ r, so the top gradient is
/// a random direction independent of the network.
fn probe_random_readout(
    spec: &ModelSpec,
    batch: usize,
    input_dim: usize,
    seed: u64,
) -> StepMeasure {
    let out_dim = match spec {
        ModelSpec::Mlp(m) => m.output_dim,
        ModelSpec::Rnn(m) => m.output_dim,
        ModelSpec::Cnn(m) => m.output_dim,
        ModelSpec::Chain(_) => input_dim,
    };
    // Cargo runs these tests on parallel threads and burn's generator is process-wide: the
    // weights and inputs of a seed are drawn under one lock, or another test's seed lands between
    // them and the numbers change from run to run.
    let (net, x, r) = with_seed(&device(), seed, |d| {
        (
            spec.init(d),
            Tensor::<2>::random([batch, input_dim], Distribution::Normal(0.0, 1.0), d),
            Tensor::<2>::random([batch, out_dim], Distribution::Normal(0.0, 1.0), d),
        )
    });
    probe(&net, x, |y| y.mul(r).sum(), RecordOptions::default())
}

fn act_grad_sq(m: &StepMeasure) -> Vec<f64> {
    m.layers
        .iter()
        .map(|l| l.act_grad_norm.unwrap().powi(2))
        .collect()
}

/// Geometric mean of ‖g_l‖²/‖g_{l+1}‖² over l in `from..to` (1-based layers), pooled over runs.
fn geometric_ratio(runs: &[Vec<f64>], from: usize, to: usize) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for sq in runs {
        for l in from..to {
            sum += (sq[l - 1] / sq[l]).ln();
            n += 1.0;
        }
    }
    (sum / n).exp()
}

fn mlp(width: usize, depth: usize, act: Activation, init: WeightInit) -> MlpConfig {
    MlpConfig::new(width, 10, width, depth, act, init)
}

/// The tap on the scalar chain reports ∂h_N/∂h_k = w^(N−k), sign included. Backprop multiplies
/// N−k factors of w in f32, so the relative error is at most ~N·2⁻²⁴ ≈ 2e-6 ≪ 1e-4.
#[test]
fn chain_taps_match_powers_of_w() {
    for &w in &[0.5, 0.9, 1.0, 1.1, 2.0, -0.7] {
        let n = 40;
        let d = device();
        let chain = ChainConfig {
            depth: n,
            w,
            b: 0.3,
            tied: true,
            head: None,
            activation: None,
        }
        .init(&d);
        let mut tap = Tap::new(false);
        let x = Tensor::<2>::from_floats([[1.0]], &d);
        let out = chain.forward_observed(x, &ForwardCtx::EVAL, &mut tap);
        let grads = out.sum().backward();
        for k in 1..=n {
            let g = tap.activation_grad(k, &grads).unwrap().into_scalar::<f32>() as f64;
            let want = w.powi((n - k) as i32);
            assert!(
                ((g - want) / want).abs() <= 1e-4,
                "w={w} k={k}: {g} vs {want}"
            );
        }
    }
}

/// Deep linear net, N(0, σ²/fan_in): each layer scales E‖∂L/∂h‖² by σ². Per transition the
/// ratio's relative spread is about √(2/(width·batch)) ≈ 1.1 % (width 256, batch 64); the
/// geometric mean of 9 transitions × 4 seeds brings that to ≈ 0.2 %, so 5 % fails only on a bug.
#[test]
fn linear_net_backward_factor_is_sigma_squared() {
    for sigma2 in [0.5, 1.0, 2.0] {
        let init = WeightInit::new(InitKind::Normal, f64::sqrt(sigma2));
        let spec = ModelSpec::Mlp(mlp(256, 10, Activation::Identity, init));
        let runs: Vec<_> = (0..4)
            .map(|s| act_grad_sq(&probe_random_readout(&spec, 64, 256, s)))
            .collect();
        let ratio = geometric_ratio(&runs, 1, 10);
        assert!(
            (ratio - sigma2).abs() / sigma2 < 0.05,
            "σ²={sigma2}: ratio {ratio}"
        );
    }
}

/// Least-squares slope of `y` against the layer index.
fn slope(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        sxy += (i as f64 - mx) * (v - my);
        sxx += (i as f64 - mx).powi(2);
    }
    sxy / sxx
}

/// ReLU, 30 layers, no bias: He gives χ = 1, Xavier χ = 1/2 (σ_w² = 1, half the units pass),
/// while the weight-gradient norms stay flat, because ‖h_{l−1}‖ and ‖∂L/∂h_l‖ change in opposite
/// directions: weight gradients alone hide the vanishing.
///
/// Flat is a statement about expectations, so it is tested as the per-layer trend of
/// E ln‖∂L/∂W_l‖² (the least-squares slope over layers of the seed mean), against the theory's 0.
/// Its sampling error: in a ReLU net of width n the log of a squared norm random-walks with
/// variance ≈ 5/n per layer (Hanin & Nica 2019), so ln‖∂L/∂W_l‖², a forward walk over l − 1
/// layers plus a backward one over L − l, has variance ≈ 5(L − 1)/n ≈ 0.57 at every l (n = 256,
/// L = 30), the bottom layers' values driven by the backward walk and the top layers' by the
/// forward one. The slope over ≈ 20 layers between the two ends then has a standard deviation
/// ≈ √(2 · 0.57 / 6) / 20 ≈ 0.022 over 6 seeds; 0.07 is three of them, a tenth of the backward
/// signal's own slope under Xavier (ln 2 ≈ 0.69 per layer). Measured over six disjoint sets of
/// 6 seeds (0–35): slopes from −0.033 to 0.011, sd 0.018. A max/min test of the raw seed means
/// is not sound here: a mean of 6 such log-normal values still varies by ±37 %, and one seed
/// draw gave max/min 2.8.
#[test]
fn relu_he_and_xavier_rates_and_flat_weight_gradients() {
    for (kind, want) in [(InitKind::HeNormal, 1.0), (InitKind::XavierNormal, 0.5)] {
        let spec = ModelSpec::Mlp(mlp(256, 30, Activation::Relu, WeightInit::new(kind, 1.0)));
        let measures: Vec<_> = (0..6)
            .map(|s| probe_random_readout(&spec, 128, 256, s))
            .collect();
        let runs: Vec<_> = measures.iter().map(act_grad_sq).collect();
        let ratio = geometric_ratio(&runs, 1, 30);
        assert!(
            (ratio - want).abs() / want < 0.05,
            "{kind}: ratio {ratio}, want {want}"
        );
        let mean_log_sq: Vec<f64> = (0..30)
            .map(|l| {
                measures
                    .iter()
                    .map(|m| m.layers[l].weight_grad_norm.unwrap().powi(2).ln())
                    .sum::<f64>()
                    / measures.len() as f64
            })
            .collect();
        let trend = slope(&mean_log_sq);
        assert!(
            trend.abs() < 0.07,
            "{kind}: weight-gradient norms not flat: ln‖∂L/∂W_l‖² changes by {trend:.3} per layer ({mean_log_sq:?})"
        );
        // Meanwhile under Xavier the backward signal at layer 1 is ~2^-29 of the last one.
        if kind == InitKind::XavierNormal {
            let g = &runs[0];
            assert!(g[0] / g[29] < 1e-6, "{}", g[0] / g[29]);
        }
    }
}

/// tanh with σ_b² = 0.05 at width 512: the measured per-layer factor over layers 10–30 matches
/// χ = σ_w² E[tanh'(z)²] from Gauss–Hermite quadrature, on both sides of and at the edge of
/// chaos (σ_w² ≈ 1.761). Finite-width corrections are O(1/width) ≈ 0.2 % and the pooled sampling
/// error ≈ 0.1 %, inside 3 %.
#[test]
fn tanh_rate_matches_mean_field_quadrature() {
    let sigma_b2: f64 = 0.05;
    for sigma_w2 in [1.0, 1.761, 2.5] {
        let mut config = mlp(
            512,
            40,
            Activation::Tanh,
            WeightInit::new(InitKind::Normal, f64::sqrt(sigma_w2)),
        );
        config.bias = true;
        config.sigma_b = sigma_b2.sqrt();
        let spec = ModelSpec::Mlp(config);
        let runs: Vec<_> = (0..3)
            .map(|s| act_grad_sq(&probe_random_readout(&spec, 128, 512, s)))
            .collect();
        let measured = geometric_ratio(&runs, 10, 30);
        let theory = TheoryCase::for_model(&spec.facts(), 1.0, 0.0).unwrap();
        let factors = theory.backward_factors(40);
        let predicted = (factors[9..29].iter().map(|f| f.ln()).sum::<f64>() / 20.0).exp();
        assert!(
            (measured - predicted).abs() / predicted < 0.03,
            "σ_w²={sigma_w2}: measured {measured}, predicted {predicted}"
        );
    }
}

/// Linear → BatchNorm → ReLU: the squared gradient grows by π/(π−1) ≈ 1.467 per layer
/// (Yang et al. 2019), at batch 128 and width 512.
#[test]
fn batchnorm_relu_gradient_explosion_rate() {
    let mut config = mlp(
        512,
        30,
        Activation::Relu,
        WeightInit::new(InitKind::HeNormal, 1.0),
    );
    config.norm = NormKind::Batch;
    let spec = ModelSpec::Mlp(config);
    let runs: Vec<_> = (0..2)
        .map(|s| act_grad_sq(&probe_random_readout(&spec, 128, 512, s)))
        .collect();
    let ratio = geometric_ratio(&runs, 5, 30);
    let want = BATCHNORM_RELU_FACTOR;
    assert!(
        (ratio - want).abs() / want < 0.03,
        "ratio {ratio}, want {want}"
    );
}

/// Adding the tap changes no parameter gradient, bit for bit.
#[test]
fn taps_leave_parameter_gradients_bit_identical() {
    let spec = ModelSpec::Mlp(mlp(
        32,
        6,
        Activation::Tanh,
        WeightInit::new(InitKind::XavierNormal, 1.0),
    ));
    let d = device();
    let (net, x) = with_seed(&d, 5, |d| {
        (
            spec.init(d),
            Tensor::<2>::random([16, 32], Distribution::Normal(0.0, 1.0), d),
        )
    });
    let plain = net
        .forward_observed(x.clone(), &ForwardCtx::PROBE, &mut NoObserver)
        .square()
        .mean()
        .backward();
    let mut tap = Tap::new(true);
    let tapped = net
        .forward_observed(x.clone(), &ForwardCtx::PROBE, &mut tap)
        .square()
        .mean()
        .backward();
    let mut hooks = Tap::with_mode(true, TapMode::Hook);
    let hooked = net
        .forward_observed(x, &ForwardCtx::PROBE, &mut hooks)
        .square()
        .mean()
        .backward();
    let a = collect_params(&net, Some(&plain));
    for (other, name) in [(&tapped, "zero leaf"), (&hooked, "hook")] {
        let b = collect_params(&net, Some(other));
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            let gp: Vec<f32> = p.grad.clone().unwrap().into_data().try_to_vec().unwrap();
            let gq: Vec<f32> = q.grad.clone().unwrap().into_data().try_to_vec().unwrap();
            assert!(
                gp.iter().zip(&gq).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name}: {}",
                p.path
            );
        }
    }
}

/// The backward hook (a burn backend extension) and the zero-leaf tap it replaced record the
/// same step, every quantity equal to the last bit, on both CPU backends, for an MLP with
/// residual connections (a layer's gradient summed from two consumers), layer norm and biases,
/// and for an LSTM whose hidden state is tapped at every time step; with an SGD step between the
/// reductions and the read-back, as training runs it. And the hook really runs: a hooked tap
/// keeps no gradient tensor, yet every layer's norm is there.
#[test]
fn backward_hook_records_what_the_zero_leaf_tap_records() {
    use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
    use gradscope_diagnostics::Recorder;
    use gradscope_model::{BackendKind, RnnConfig};

    for kind in [BackendKind::Flex, BackendKind::Ndarray] {
        let d = kind.autodiff_device();
        let mut cfg = mlp(
            24,
            6,
            Activation::Tanh,
            WeightInit::new(InitKind::XavierNormal, 1.0),
        );
        cfg.bias = true;
        cfg.residual = true;
        cfg.norm = NormKind::Layer;
        let rnn = RnnConfig {
            input_dim: 3 * 7,
            output_dim: 1,
            step_features: 3,
            width: 12,
            depth: 2,
            cell: gradscope_model::Cell::Lstm,
            init: WeightInit::new(InitKind::XavierNormal, 1.0),
            recurrent_init: gradscope_model::RecurrentInit::Orthogonal,
            rho: 1.0,
            forget_bias: 1.0,
        };
        let nets = with_seed(&d, 4, |d| {
            (
                ModelSpec::Mlp(cfg).init(d),
                ModelSpec::Rnn(rnn).init(d),
                Tensor::<2>::random([8, 24], Distribution::Normal(0.0, 1.0), d),
                Tensor::<2>::random([8, 3 * 7], Distribution::Normal(0.0, 1.0), d),
            )
        });
        let (mlp_net, rnn_net, x, xs) = nets;
        for (net, x, name) in [(mlp_net, x, "mlp"), (rnn_net, xs, "lstm")] {
            let measure = |mode: TapMode| {
                let mut recorder = Recorder::new(RecordOptions {
                    tap: mode,
                    ..RecordOptions::default()
                });
                let mut optim: ModuleOptimizer = SgdConfig::new().init();
                let step =
                    recorder.record(&net, x.clone(), &ForwardCtx::TRAIN, |y| y.square().mean());
                step.update(net.clone(), |net, grads| {
                    let gp = GradientsParams::from_grads(grads, &net);
                    optim.step(0.05, net, gp)
                })
                .1
            };
            let hook = measure(TapMode::Hook);
            let leaf = measure(TapMode::ZeroLeaf);
            assert!(
                hook.layers
                    .iter()
                    .all(|l| l.act_grad_norm.is_some_and(|g| g > 0.0)),
                "{kind} {name}: {hook:?}"
            );
            if name == "lstm" {
                assert!(hook.layers[0].act_grad_norm_time.len() == 7);
                assert!(
                    hook.layers[0]
                        .act_grad_norm_time
                        .iter()
                        .all(|g| g.is_some())
                );
            }
            assert_eq!(hook, leaf, "{kind} {name}");
        }

        // A hooked tap holds norms, not gradients.
        let mut tap = Tap::with_mode(false, TapMode::Hook);
        let net = ModelSpec::Mlp(mlp(
            8,
            3,
            Activation::Relu,
            WeightInit::new(InitKind::HeNormal, 1.0),
        ))
        .init_seeded(1, &d);
        let grads = net
            .forward_observed(Tensor::ones([4, 8], &d), &ForwardCtx::PROBE, &mut tap)
            .sum()
            .backward();
        assert_eq!(tap.len(), 3);
        assert!(tap.activation_grad(1, &grads).is_none());
    }
}

/// Adds `delta` to the `target`-th scalar of the module's flattened parameters.
struct Nudge {
    target: usize,
    seen: usize,
    delta: f64,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let n = param.val().shape().num_elements();
        let (start, target, delta) = (self.seen, self.target, self.delta);
        self.seen += n;
        if target < start || target >= start + n {
            return param;
        }
        param.map(|t| {
            let shape = t.shape();
            let device = t.device();
            let mut onehot = vec![0.0f32; n];
            onehot[target - start] = delta as f32;
            let bump = Tensor::<1>::from_floats(onehot.as_slice(), &device).reshape(shape);
            t.add(bump)
        })
    }
}

/// Parameter gradients agree with central finite differences on a tiny tanh net. With h = 1e-2
/// the truncation error is h²/6·|f'''| ≈ 2e-5 and the f32 rounding error ε·|L|/h ≈ 1e-5, so
/// 2e-3 of the largest gradient entry (plus 1e-4 absolute) is a bound with a wide margin.
#[test]
fn parameter_gradients_match_finite_differences() {
    let mut config = MlpConfig::new(
        3,
        2,
        4,
        3,
        Activation::Tanh,
        WeightInit::new(InitKind::XavierNormal, 1.0),
    );
    config.bias = true;
    config.sigma_b = 0.1;
    let d = device();
    let net = with_seed(&d, 11, |d| config.init(d));
    let x = Tensor::<2>::from_floats([[0.5, -1.0, 0.25], [1.5, 0.3, -0.7]], &d);
    let y = Tensor::<2>::from_floats([[0.2, -0.1], [0.4, 0.9]], &d);
    let loss_of = |n: &gradscope_model::DeepNet<gradscope_model::DenseBlock>| {
        let out = n.forward(x.clone(), &ForwardCtx::PROBE);
        out.sub(y.clone()).square().sum()
    };
    let grads = loss_of(&net).backward();
    let analytic: Vec<f32> = collect_params(&net, Some(&grads))
        .into_iter()
        .flat_map(|p| p.grad.unwrap().into_data().try_to_vec::<f32>().unwrap())
        .collect();
    let max_g = analytic.iter().fold(0.0f32, |a, &b| a.max(b.abs())) as f64;
    let h = 1e-2;
    for (i, &g) in analytic.iter().enumerate() {
        let eval = |delta: f64| {
            let moved = net.clone().map(&mut Nudge {
                target: i,
                seen: 0,
                delta,
            });
            loss_of(&moved).into_scalar::<f32>() as f64
        };
        let fd = (eval(h) - eval(-h)) / (2.0 * h);
        assert!(
            (fd - g as f64).abs() <= 2e-3 * max_g + 1e-4,
            "parameter {i}: autodiff {g}, finite difference {fd}"
        );
    }
}

/// A linear net with σ_w = 2 doubles the signal per layer, so at depth 200 its activations
/// overflow f32 (2¹²⁸) near layer 128: the first non-finite value is a forward activation there,
/// every earlier layer is finite, and nothing panics.
#[test]
fn first_nonfinite_names_the_producing_layer() {
    let spec = ModelSpec::Mlp(mlp(
        64,
        200,
        Activation::Identity,
        WeightInit::new(InitKind::Normal, 2.0),
    ));
    let m = probe_random_readout(&spec, 32, 64, 3);
    let nf = locate(0, &m, |l| format!("blocks.{}", l - 1)).expect("a non-finite value");
    assert_eq!(nf.kind, NonFiniteKind::ForwardActivation);
    assert!((110..=135).contains(&nf.layer), "layer {}", nf.layer);
    assert_eq!(nf.layer_name, format!("blocks.{}", nf.layer - 1));
    for l in &m.layers[..nf.layer - 1] {
        assert_eq!(l.act_nonfinite, Some(0));
    }
    assert!(m.layers[nf.layer - 1].act_nonfinite.unwrap() > 0);
}

/// Keeps every layer's output (outside autodiff), to recompute the statistics on the host.
#[derive(Default)]
struct Keep(Vec<Vec<f64>>);

impl gradscope_model::LayerObserver for Keep {
    fn observe(&mut self, _: gradscope_model::LayerInfo<'_>, h: Tensor<2>) -> Tensor<2> {
        self.0.push(host(h.clone().inner()));
        h
    }
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Every per-layer quantity of a full recorded step (with an SGD step) equals its float64
/// recomputation on the host, layer by layer, on every CPU backend (both reduce each tensor in one
/// blocked pass over its own buffer, `Reducer::Host`). The f32 sums run over at most 16·64 = 1024
/// terms, so 1e-4 relative is a wide bound; the spectral norm is a 30-iteration cold power
/// iteration against an exact f64 one, so 2e-2 as in the spectral module's own test.
#[test]
fn recorded_step_matches_host_recomputation_on_every_backend() {
    use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
    use gradscope_diagnostics::Recorder;
    use gradscope_model::{BackendKind, ParamCollector};

    for kind in [BackendKind::Flex, BackendKind::Ndarray] {
        let d = kind.autodiff_device();
        let mut cfg = mlp(
            64,
            5,
            Activation::Relu,
            WeightInit::new(InitKind::HeNormal, 1.0),
        );
        cfg.bias = true;
        cfg.sigma_b = 0.3;
        let (net, x) = with_seed(&d, 9, |d| {
            (
                ModelSpec::Mlp(cfg).init(d),
                Tensor::<2>::random([16, 64], Distribution::Normal(0.0, 1.0), d),
            )
        });
        let mut keep = Keep::default();
        net.forward_observed(x.clone(), &ForwardCtx::PROBE, &mut keep);

        // The activation gradients themselves, from a zero-leaf tap on the same step.
        let mut leaves = Tap::new(false);
        let reference = net
            .forward_observed(x.clone(), &ForwardCtx::PROBE, &mut leaves)
            .square()
            .mean()
            .backward();
        let act_grads: Vec<Vec<f64>> = (1..=net.num_layers())
            .map(|l| host(leaves.activation_grad(l, &reference).unwrap()))
            .collect();

        let mut recorder = Recorder::new(RecordOptions::default());
        let mut tap = recorder.tap();
        let loss = net
            .forward_observed(x, &ForwardCtx::PROBE, &mut tap)
            .square()
            .mean();
        let grads = loss.backward();
        fn layer_params(
            n: &gradscope_model::AnyNet,
            l: usize,
            g: Option<&burn::tensor::Gradients>,
        ) -> Vec<gradscope_model::CollectedParam> {
            let mut c = ParamCollector::new(g);
            n.visit_layer(l, &mut c);
            c.params
        }
        let before: Vec<_> = (1..=net.num_layers())
            .map(|l| layer_params(&net, l, Some(&grads)))
            .collect();
        let pending = recorder.after_backward(&net, &tap, &loss, &grads);
        let gp = GradientsParams::from_grads(grads, &net);
        let mut sgd: ModuleOptimizer = SgdConfig::new().init();
        let stepped = sgd.step(0.1, net, gp);
        let m = pending.finish(Some(&stepped));

        let close = |what: &str, l: usize, got: Option<f64>, want: f64, rel: f64| {
            let got = got.unwrap_or_else(|| panic!("{kind} layer {l}: {what} missing"));
            assert!(
                (got - want).abs() <= rel * want.abs() + 1e-12,
                "{kind} layer {l}: {what} = {got}, host {want}"
            );
        };
        for (i, lm) in m.layers.iter().enumerate() {
            let l = i + 1;
            let h = &keep.0[i];
            let n = h.len() as f64;
            let mean = h.iter().sum::<f64>() / n;
            let std = (h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            close("act_mean", l, lm.act_mean, mean, 1e-4);
            close("act_std", l, lm.act_std, std, 1e-4);
            let units = 64;
            let alive = (0..units)
                .filter(|&u| (0..16).any(|b| h[b * units + u] > 0.0))
                .count();
            close(
                "act_dead",
                l,
                lm.act_dead,
                1.0 - alive as f64 / units as f64,
                1e-9,
            );
            close(
                "act_grad_norm",
                l,
                lm.act_grad_norm,
                norm(&act_grads[i]),
                1e-4,
            );
            let w = before[i].iter().find(|p| p.rank == 2).unwrap();
            let b = before[i].iter().find(|p| p.rank == 1).unwrap();
            let wv = host(w.value.clone());
            close(
                "weight_grad_norm",
                l,
                lm.weight_grad_norm,
                norm(&host(w.grad.clone().unwrap())),
                1e-4,
            );
            close(
                "bias_grad_norm",
                l,
                lm.bias_grad_norm,
                norm(&host(b.grad.clone().unwrap())),
                1e-4,
            );
            close("weight_norm", l, lm.weight_norm, norm(&wv), 1e-4);
            let after = layer_params(&stepped, l, None);
            let wa = host(after.iter().find(|p| p.rank == 2).unwrap().value.clone());
            let delta: Vec<f64> = wa.iter().zip(&wv).map(|(a, b)| a - b).collect();
            close(
                "update_ratio",
                l,
                lm.update_ratio,
                norm(&delta) / norm(&wv),
                1e-3,
            );
            // Exact largest singular value by f64 power iteration on WᵀW (1000 iterations).
            let [rows, cols] = w.matrix.as_ref().unwrap().dims();
            let mut v = vec![1.0; cols];
            let mut sigma = 0.0;
            for _ in 0..1000 {
                let u: Vec<f64> = (0..rows)
                    .map(|r| (0..cols).map(|c| wv[r * cols + c] * v[c]).sum())
                    .collect();
                let z: Vec<f64> = (0..cols)
                    .map(|c| (0..rows).map(|r| wv[r * cols + c] * u[r]).sum())
                    .collect();
                sigma = (norm(&z) / norm(&v)).sqrt();
                let nz = norm(&z);
                v = z.iter().map(|x| x / nz).collect();
            }
            close("spectral_norm", l, lm.spectral_norm, sigma, 2e-2);
        }
    }
}

/// A layer of rank 3 (`[batch, channels, length]`, as a 1-D convolution makes) observed through
/// `observe_channels`: ‖∂L/∂h‖ is the norm of the whole 3-D gradient (here L = Σ h ⊙ r, so
/// ∂L/∂h = r exactly), the mean is over every entry, and a dead unit is a channel that is zero at
/// every position of every sample.
#[test]
fn rank_three_layers_are_observed_per_channel() {
    use burn::module::ModuleVisitor;
    use gradscope_model::{LayerInfo, LayerObserver};

    /// Reshapes its input to `[batch, 4, 5]`, applies ReLU with channel 2 pushed below zero,
    /// observes the feature maps, and flattens them back.
    #[derive(Module, Debug)]
    struct Maps {
        shift: Param<Tensor<1>>,
    }

    impl Network for Maps {
        fn num_layers(&self) -> usize {
            1
        }
        fn layer_name(&self, _index: usize) -> String {
            "maps".into()
        }
        fn forward_observed(
            &self,
            x: Tensor<2>,
            _ctx: &ForwardCtx,
            observer: &mut dyn LayerObserver,
        ) -> Tensor<2> {
            let [batch, _] = x.dims();
            let h = x
                .reshape([batch, 4, 5])
                .add(self.shift.val().reshape([1, 4, 1]))
                .clamp_min(0.0);
            let info = LayerInfo {
                index: 1,
                name: "maps",
                activation: Some(Activation::Relu),
            };
            observer.observe_channels(info, h).reshape([batch, 20])
        }
        fn visit_layer<V: ModuleVisitor>(&self, _index: usize, visitor: &mut V) {
            self.visit(visitor);
        }
    }

    let d = device();
    let net = Maps {
        shift: Param::from_tensor(Tensor::<1>::from_floats([0.0, 0.0, -100.0, 0.0], &d)),
    };
    let (x, r) = with_seed(&d, 21, |d| {
        (
            Tensor::<2>::random([6, 20], Distribution::Normal(0.0, 1.0), d),
            Tensor::<2>::random([6, 20], Distribution::Normal(0.0, 1.0), d),
        )
    });
    let r_norm = f64::from(r.clone().square().sum().sqrt().into_scalar::<f32>());
    let h: Vec<f32> = net
        .forward(x.clone(), &ForwardCtx::PROBE)
        .into_data()
        .try_to_vec()
        .unwrap();
    let mean = h.iter().map(|&v| f64::from(v)).sum::<f64>() / h.len() as f64;
    let m = probe(&net, x, |y| y.mul(r).sum(), RecordOptions::default());
    let layer = &m.layers[0];
    let g = layer.act_grad_norm.unwrap();
    assert!((g - r_norm).abs() <= 1e-5 * r_norm, "{g} vs {r_norm}");
    let got_mean = layer.act_mean.unwrap();
    assert!((got_mean - mean).abs() < 1e-6, "{got_mean} vs {mean}");
    // One channel of four is dead; with 30 draws per channel no live one is zero throughout.
    assert_eq!(layer.act_dead, Some(0.25));
}

/// A linear recurrence observed at every time step through `observe_step`:
/// h_t = h_{t−1}·ρQ + x_t·U with Q orthogonal, read out from h_T. Back through time each step
/// multiplies ∂L/∂h by (ρQ)ᵀ, which scales every row's norm by exactly ρ, so the recorded
/// ‖∂L/∂h_{t−1}‖ / ‖∂L/∂h_t‖ is ρ at every step. In f32 each step's product rounds with a relative
/// error of about √width·2⁻²⁴ ≈ 5e-7, far inside 1e-4. The network hands its W_hh to the
/// recorder (`Network::recurrent_matrix`), whose spectral norm and radius are ρ.
#[test]
fn a_linear_recurrence_scales_the_gradient_by_rho_per_step_back_in_time() {
    use burn::module::ModuleVisitor;
    use burn::nn::Linear;
    use gradscope_model::{LayerInfo, LayerObserver, linear};

    #[derive(Module, Debug)]
    struct Recurrence {
        w_hh: Param<Tensor<2>>,
        w_in: Param<Tensor<2>>,
        head: Linear,
        #[module(skip)]
        steps: usize,
    }

    impl Network for Recurrence {
        fn num_layers(&self) -> usize {
            1
        }
        fn layer_name(&self, _index: usize) -> String {
            "rnn.0".into()
        }
        fn forward_observed(
            &self,
            x: Tensor<2>,
            _ctx: &ForwardCtx,
            observer: &mut dyn LayerObserver,
        ) -> Tensor<2> {
            let [batch, features] = x.dims();
            let d = features / self.steps;
            let width = self.w_hh.val().dims()[0];
            let info = LayerInfo {
                index: 1,
                name: "rnn.0",
                activation: Some(Activation::Identity),
            };
            let mut h = Tensor::<2>::zeros([batch, width], &x.device());
            for t in 1..=self.steps {
                let x_t = x.clone().slice([0..batch, (t - 1) * d..t * d]);
                h = h.matmul(self.w_hh.val()) + x_t.matmul(self.w_in.val());
                h = observer.observe_step(info, t, h);
            }
            self.head.forward(observer.observe(info, h))
        }
        fn visit_layer<V: ModuleVisitor>(&self, _index: usize, visitor: &mut V) {
            self.w_hh.visit(visitor);
            self.w_in.visit(visitor);
        }
        fn recurrent_matrix(&self, _index: usize) -> Option<Tensor<2>> {
            Some(self.w_hh.val())
        }
    }

    let (width, steps, d, batch) = (32, 50, 2, 16);
    let dev = device();
    for rho in [0.9, 1.0, 1.1] {
        let (net, x, r) = with_seed(&dev, 7, |dv| {
            let q = WeightInit::new(InitKind::Orthogonal, 1.0).draw(width, width, dv);
            let u = WeightInit::new(InitKind::XavierNormal, 1.0).draw(d, width, dv);
            let net = Recurrence {
                w_hh: Param::from_tensor(q.mul_scalar(rho).detach()),
                w_in: Param::from_tensor(u),
                head: linear(
                    width,
                    3,
                    &WeightInit::new(InitKind::LecunNormal, 1.0),
                    None,
                    dv,
                ),
                steps,
            };
            (
                net,
                Tensor::<2>::random([batch, steps * d], Distribution::Normal(0.0, 1.0), dv),
                Tensor::<2>::random([batch, 3], Distribution::Normal(0.0, 1.0), dv),
            )
        });
        let m = probe(&net, x, |y| y.mul(r).sum(), RecordOptions::default());
        let g: Vec<f64> = m.layers[0]
            .act_grad_norm_time
            .iter()
            .map(|v| v.expect("every step is part of the loss"))
            .collect();
        assert_eq!(g.len(), steps);
        // The last step's signal is the layer output's.
        let out = m.layers[0].act_grad_norm.unwrap();
        assert!(
            (g[steps - 1] - out).abs() <= 1e-6 * out,
            "{} vs {out}",
            g[steps - 1]
        );
        for t in 1..steps {
            let factor = g[t - 1] / g[t];
            assert!(
                (factor - rho).abs() <= 1e-4 * rho,
                "ρ = {rho}, step {t}: factor {factor}"
            );
        }
        // The network's own state matrix, through `Network::recurrent_matrix`: every singular
        // value and every eigenvalue modulus of ρQ is ρ (Gelfand's estimate within
        // ln(√32)/2¹⁶ = 2.6e-5).
        let layer = &m.layers[0];
        for (what, v) in [
            ("norm", layer.recurrent_spectral_norm),
            ("radius", layer.recurrent_spectral_radius),
        ] {
            let v = v.expect("a recurrent matrix is measured");
            assert!((v / rho - 1.0).abs() < 1e-4, "ρ = {rho}: {what} {v}");
        }
        // The record carries it, per layer and time step.
        let rec = m.to_record(gradscope_diagnostics::RunKind::Real, 0, 0.0, false);
        assert_eq!(rec.layers.recurrent_spectral_radius.len(), 1);
        assert_eq!(rec.layers.act_grad_norm_time.len(), 1);
        assert_eq!(rec.layers.act_grad_norm_time[0].len(), steps);
    }
}

/// `Recorder::record` reduces what needs only the forward pass on another thread of the pool
/// while `backward()` runs; `after_backward` does the same work in sequence. Both give the same
/// step, every f64 equal, on both CPU backends, called from a two-thread pool's worker (where the
/// trainer calls it) and from outside any pool, for an MLP with layer norm and biases (weight and
/// spectral norms, activation statistics) and an LSTM (the recurrent matrix's norm and radius),
/// three steps each so that the warm power-iteration vectors carry over.
#[test]
fn overlapped_record_equals_the_sequential_path() {
    use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
    use gradscope_diagnostics::Recorder;
    use gradscope_model::{BackendKind, RnnConfig};

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for kind in [BackendKind::Flex, BackendKind::Ndarray] {
        let d = kind.autodiff_device();
        let mut cfg = mlp(
            32,
            5,
            Activation::Relu,
            WeightInit::new(InitKind::HeNormal, 1.0),
        );
        cfg.bias = true;
        cfg.norm = NormKind::Layer;
        let rnn = RnnConfig {
            input_dim: 2 * 5,
            output_dim: 1,
            step_features: 2,
            width: 8,
            depth: 1,
            cell: gradscope_model::Cell::Lstm,
            init: WeightInit::new(InitKind::XavierNormal, 1.0),
            recurrent_init: gradscope_model::RecurrentInit::Orthogonal,
            rho: 1.0,
            forget_bias: 1.0,
        };
        let (mlp_net, rnn_net, x, xs) = with_seed(&d, 11, |d| {
            (
                ModelSpec::Mlp(cfg).init(d),
                ModelSpec::Rnn(rnn).init(d),
                Tensor::<2>::random([8, 32], Distribution::Normal(0.0, 1.0), d),
                Tensor::<2>::random([8, 2 * 5], Distribution::Normal(0.0, 1.0), d),
            )
        });
        for (net, x, name) in [(mlp_net, x, "mlp"), (rnn_net, xs, "lstm")] {
            let steps = |overlapped: bool| {
                let mut recorder = Recorder::new(RecordOptions::default());
                let mut optim: ModuleOptimizer = SgdConfig::new().init();
                let mut net = net.clone();
                let mut out = Vec::new();
                for _ in 0..3 {
                    let (stepped, m) = if overlapped {
                        recorder
                            .record(&net, x.clone(), &ForwardCtx::TRAIN, |y| y.square().mean())
                            .update(net, |net, grads| {
                                let gp = GradientsParams::from_grads(grads, &net);
                                optim.step(0.05, net, gp)
                            })
                    } else {
                        let mut tap = recorder.tap();
                        let loss = net
                            .forward_observed(x.clone(), &ForwardCtx::TRAIN, &mut tap)
                            .square()
                            .mean();
                        let grads = loss.backward();
                        let pending = recorder.after_backward(&net, &tap, &loss, &grads);
                        let gp = GradientsParams::from_grads(grads, &net);
                        let stepped = optim.step(0.05, net, gp);
                        let m = pending.finish(Some(&stepped));
                        (stepped, m)
                    };
                    out.push(m);
                    net = stepped;
                }
                out
            };
            let sequential = steps(false);
            assert!(
                sequential
                    .iter()
                    .all(|m| m.layers.iter().all(|l| l.spectral_norm.is_some())),
                "{kind} {name}: {sequential:?}"
            );
            assert_eq!(steps(true), sequential, "{kind} {name}, outside a pool");
            let on_worker = pool.install(|| steps(true));
            assert_eq!(on_worker, sequential, "{kind} {name}, on a pool worker");
        }
    }
}

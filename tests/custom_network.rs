//! A network defined only here, not a built-in, trains through the public API exactly as a
//! built-in does: beside its learning-rate-zero baseline and head-only control, recorded, judged,
//! diagnosed and written to a run folder whose `summary.json` has the same fields.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::module::{Module, ModuleVisitor, ParamId};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use gradscope::model::{
    Activation, ForwardCtx, InitKind, LayerInfo, LayerObserver, Network, WeightInit, linear,
    linear_params, with_seed,
};
use gradscope::trainer::{NetworkInfo, RunOptions, run_experiment, train};

/// A tanh stack that adds each layer's input back at half weight, written against the
/// `Network` trait directly (no `Block`, no `DeepNet`).
#[derive(Module, Debug)]
struct HalfSkip {
    layers: Vec<Linear>,
    head: Linear,
}

impl HalfSkip {
    fn new(
        inputs: usize,
        width: usize,
        depth: usize,
        outputs: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let init = WeightInit::new(InitKind::XavierNormal, 1.0);
        with_seed(device, seed, |d| Self {
            layers: (0..depth)
                .map(|i| {
                    linear(
                        if i == 0 { inputs } else { width },
                        width,
                        &init,
                        Some(0.0),
                        d,
                    )
                })
                .collect(),
            head: linear(width, outputs, &init, Some(0.0), d),
        })
    }
}

impl Network for HalfSkip {
    fn num_layers(&self) -> usize {
        self.layers.len()
    }

    fn layer_name(&self, index: usize) -> String {
        format!("layers.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        _ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            let z = layer.forward(h.clone()).tanh();
            h = if i == 0 { z } else { z.add(h.mul_scalar(0.5)) };
            let name = self.layer_name(i + 1);
            let info = LayerInfo {
                index: i + 1,
                name: &name,
                activation: (i == 0).then_some(Activation::Tanh),
            };
            h = observer.observe(info, h);
        }
        self.head.forward(h)
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if let Some(layer) = self.layers.get(index - 1) {
            layer.visit(visitor);
        }
    }

    fn head_params(&self) -> Vec<ParamId> {
        linear_params(&self.head)
    }
}

const CONFIG: &str = r#"
seed = 3
[model]
depth = 6
width = 32
activation = "tanh"
[data]
name = "spirals"
n_train = 256
n_test = 128
[optim]
name = "adam"
lr = 0.01
[train]
steps = 150
batch_size = 64
record_every = 5
eval_every = 50
signal_window = 10
head_only = true
"#;

fn options(out: &Path) -> RunOptions {
    RunOptions {
        out_dir: out.to_path_buf(),
        no_baseline: false,
        progress: None,
        interrupt: Arc::new(AtomicBool::new(false)),
        report: true,
        tensorboard: false,
        max_memory: None,
    }
}

/// Every key path of a JSON value (array elements share their array's path).
fn key_paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}.{k}");
                out.insert(p.clone());
                key_paths(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                key_paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn summary_keys(dir: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys = BTreeSet::new();
    key_paths(&v, "", &mut keys);
    keys
}

#[test]
fn a_network_defined_here_trains_like_a_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let exp =
        gradscope::config::parse_config(CONFIG, "custom.toml", dir.path(), "custom", &[]).unwrap();
    let (data, _, loss) = gradscope::trainer::experiment::prepare(&exp).unwrap();
    let (inputs, outputs) = (data.input_dim, data.task.output_dim());

    let custom_dir = dir.path().join("custom");
    let outcome = train(
        &exp,
        &data,
        loss,
        &NetworkInfo::custom("half-skip tanh stack, 6 x 32"),
        |d| HalfSkip::new(inputs, 32, 6, outputs, exp.seed, d),
        &options(&custom_dir),
    )
    .unwrap();
    let s = &outcome.summary;
    assert_eq!(s.depth, 6);
    assert_eq!(s.model, "half-skip tanh stack, 6 x 32");
    assert!(s.verdict.is_some(), "judged against its baseline");
    assert!(s.head_only.is_some(), "the head-only control ran");
    assert!(s.theory.is_none(), "no theory for an unknown architecture");
    assert_eq!(s.steps_completed, 150);
    let text = std::fs::read_to_string(custom_dir.join("metrics.jsonl")).unwrap();
    let records = gradscope::record::read_jsonl(text.as_bytes(), "metrics.jsonl").unwrap();
    let arms: BTreeSet<_> = records.iter().map(|r| r.run.name()).collect();
    assert_eq!(arms, BTreeSet::from(["baseline", "real"]));
    assert!(records.iter().all(|r| r.layers.act_grad_norm.len() == 6));
    assert!(custom_dir.join("report.html").exists());
    // The layer names come from the network: a non-finite value or a plot names `layers.k`.
    let html = std::fs::read_to_string(custom_dir.join("report.html")).unwrap();
    assert!(
        html.contains("half-skip tanh stack"),
        "the report names the model"
    );
    // The saved config does not pretend the network is the default MLP of its [model] section.
    let config = std::fs::read_to_string(custom_dir.join("config.toml")).unwrap();
    assert!(
        config.starts_with("# model: half-skip tanh stack"),
        "{config}"
    );
    assert!(!config.lines().any(|l| l.trim() == "[model]"), "{config}");

    // The built-in MLP of the config, through the usual path: the same summary fields, save the
    // theory's (which exists only for built-in models).
    let builtin_dir = dir.path().join("builtin");
    run_experiment(&exp, &options(&builtin_dir)).unwrap();
    // A remedy's own values (`branch_scale`, `max_norm`, …) depend on which change it is, and
    // its settings on whether the config built the model: the two networks get different
    // remedies, but every remedy has the common fields.
    let compared = |k: &String| {
        let specific = k
            .strip_prefix(".diagnosis.remedies[].")
            .is_some_and(|f| !["change", "name", "why", "settings", "text"].contains(&f));
        !k.starts_with(".theory.") && !specific
    };
    let custom: BTreeSet<String> = summary_keys(&custom_dir)
        .into_iter()
        .filter(compared)
        .collect();
    let builtin: BTreeSet<String> = summary_keys(&builtin_dir)
        .into_iter()
        .filter(compared)
        .collect();
    assert_eq!(custom, builtin);
    // Remedies for a network of one's own name no config keys: its config has none for it.
    let remedies = &outcome.summary.diagnosis.remedies;
    assert!(
        remedies.iter().all(|r| r.settings.is_empty()),
        "{remedies:?}"
    );
}

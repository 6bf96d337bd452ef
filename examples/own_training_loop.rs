//! The diagnostics inside a training loop you already have.
//!
//! `MyNet` is an ordinary burn module with its own `forward`, trained by burn's own SGD in a
//! hand-written loop. Two things make gradscope watch it:
//!
//! 1. `impl Network for MyNet`: the same forward pass, handing each hidden layer's output to an
//!    observer (one line per layer);
//! 2. in the loop, on the steps you want recorded: a tap on the forward pass, then
//!    `after_backward` and `finish` around the optimiser step (four lines).
//!
//! The records are written in gradscope's own format (a run folder's `metrics.jsonl`, one JSON
//! object per recorded step), and the diagnosis is the same as for `gradscope run`.
//!
//! Run it with `cargo run --release --example own_training_loop`.

use burn::module::{Module, ModuleVisitor};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Distribution, Tensor};
use gradscope::diagnostics::{
    DiagnosisContext, DiagnosisThresholds, RecordOptions, Recorder, RunKind, diagnose,
};
use gradscope::model::{
    Activation, BackendKind, ForwardCtx, LayerInfo, LayerObserver, Network, with_seed,
};

/// Your model, as you wrote it: three tanh layers and a linear read-out.
#[derive(Module, Debug)]
struct MyNet {
    hidden: Vec<Linear>,
    out: Linear,
}

impl MyNet {
    fn new(device: &Device) -> Self {
        Self {
            hidden: vec![
                LinearConfig::new(16, 64).init(device),
                LinearConfig::new(64, 64).init(device),
                LinearConfig::new(64, 64).init(device),
            ],
            out: LinearConfig::new(64, 1).init(device),
        }
    }
}

/// What gradscope needs: the forward pass with an observer after each hidden layer.
impl Network for MyNet {
    fn num_layers(&self) -> usize {
        self.hidden.len()
    }

    fn layer_name(&self, index: usize) -> String {
        format!("hidden.{}", index - 1)
    }

    fn forward_observed(
        &self,
        x: Tensor<2>,
        _ctx: &ForwardCtx,
        observer: &mut dyn LayerObserver,
    ) -> Tensor<2> {
        let mut h = x;
        for (i, layer) in self.hidden.iter().enumerate() {
            h = layer.forward(h).tanh();
            let name = self.layer_name(i + 1);
            let info = LayerInfo {
                index: i + 1,
                name: &name,
                activation: Some(Activation::Tanh),
            };
            h = observer.observe(info, h);
        }
        self.out.forward(h)
    }

    fn visit_layer<V: ModuleVisitor>(&self, index: usize, visitor: &mut V) {
        if let Some(layer) = self.hidden.get(index - 1) {
            layer.visit(visitor);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = BackendKind::Ndarray.autodiff_device();
    // A teacher to learn: y = sin(x · w).
    let (mut model, x, y) = with_seed(&device, 0, |d| {
        let model = MyNet::new(d);
        let x = Tensor::<2>::random([256, 16], Distribution::Normal(0.0, 1.0), d);
        let w = Tensor::<2>::random([16, 1], Distribution::Normal(0.0, 0.5), d);
        let y = x.clone().matmul(w).sin();
        (model, x, y)
    });
    let mut optim = SgdConfig::new().init();
    let lr = 0.05;

    let mut recorder = Recorder::new(RecordOptions::default());
    let mut records = Vec::new();
    for step in 0..200u64 {
        let record = step % 10 == 0;
        // gradscope: a tap on the forward pass of recorded steps.
        let mut tap = recorder.tap();
        let out = if record {
            model.forward_observed(x.clone(), &ForwardCtx::TRAIN, &mut tap)
        } else {
            model.forward(x.clone(), &ForwardCtx::TRAIN)
        };
        let loss = out.sub(y.clone()).square().mean();
        let grads = loss.backward();
        // gradscope: read the gradients before the optimiser takes them.
        let pending = record.then(|| recorder.after_backward(&model, &tap, &loss, &grads));
        let params = GradientsParams::from_grads(grads, &model);
        model = optim.step(lr, model, params);
        // gradscope: finish against the updated weights (update-to-weight ratios) and keep it.
        if let Some(p) = pending {
            records.push(
                p.finish(Some(&model))
                    .to_record(RunKind::Real, step, lr, false),
            );
        }
    }

    let dir = std::path::Path::new("runs/own_training_loop");
    std::fs::create_dir_all(dir)?;
    let file = std::fs::File::create(dir.join("metrics.jsonl"))?;
    gradscope::record::write_jsonl(std::io::BufWriter::new(file), &records)?;

    let diagnosis = diagnose(
        &records,
        &DiagnosisContext {
            model: None,
            lr,
            clipping: false,
        },
        &DiagnosisThresholds::default(),
    );
    let (first, last) = (&records[0], &records[records.len() - 1]);
    println!(
        "loss {:.4} at step 0, {:.4} at step {}",
        first.loss.get(),
        last.loss.get(),
        last.step
    );
    println!(
        "|dL/dh_l| at step {}: {:?}",
        last.step,
        last.act_grad_norms()
    );
    println!("diagnosis: {}", diagnosis.evidence.summary);
    for remedy in &diagnosis.remedies {
        println!("  - {remedy}");
    }
    println!("records: {}", dir.join("metrics.jsonl").display());
    Ok(())
}

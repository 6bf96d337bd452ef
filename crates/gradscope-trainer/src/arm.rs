//! The arms of a run and one training step of each: the real run (recorded, updated), the
//! learning-rate-zero baseline (recorded, never updated) and the head-only control (only the
//! output head updated). Every arm sees the same batch at every step.

use burn::optim::GradientsParams;
use burn::tensor::{Gradients, Tensor};
use gradscope_config::OptimSettings;
use gradscope_diagnostics::{
    NonFinite, NonFiniteKind, RecordOptions, Recorder, RunKind, StepRecord, global_grad_norm_sq,
    locate, probe,
};
use gradscope_model::{ForwardCtx, Network};

use crate::batches::{Batch, Loss};
use crate::optimizer::Optimizer;

/// One arm: its network, its recorder, and what it recorded.
pub(crate) struct Arm<N> {
    pub(crate) model: N,
    pub(crate) recorder: Recorder,
    pub(crate) records: Vec<StepRecord>,
    pub(crate) losses: Vec<f64>,
}

/// Where a step is: its index, its learning rate, and whether it is recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepAt {
    pub(crate) step: usize,
    pub(crate) lr: f64,
    pub(crate) record_now: bool,
}

/// A loss tensor's value on the host.
pub(crate) fn read(t: Tensor<1>) -> f64 {
    // + 0.0 turns a cross-entropy of exactly −0 into 0.
    t.into_scalar::<f32>() as f64 + 0.0
}

/// The gradients of the output head alone ([`Network::head_params`]; every other parameter's are
/// dropped, so the optimiser leaves those parameters exactly as they are), with their squared
/// global norm for clipping.
fn head_gradients<N: Network>(
    model: &N,
    grads: &mut Gradients,
) -> (GradientsParams, Option<Tensor<1>>) {
    let mut gp = GradientsParams::from_params(grads, model, &model.head_params());
    let norm_sq = gradscope_diagnostics::grads_norm_sq(&mut gp, model);
    (gp, norm_sq)
}

impl<N: Network + Clone> Arm<N> {
    pub(crate) fn new(model: N) -> Self {
        Self {
            model,
            recorder: Recorder::new(RecordOptions::default()),
            records: Vec::new(),
            losses: Vec::new(),
        }
    }

    /// The baseline: the batch goes through the network (recorded on recorded steps), and the
    /// weights stay as they are: no optimiser step at all, since burn's optimisers at rate 0
    /// still advance their state and turn a non-finite gradient into NaN weights.
    pub(crate) fn baseline_step(
        &mut self,
        b: &Batch,
        at: StepAt,
        loss: Loss,
        names: &dyn Fn(usize) -> String,
    ) {
        let value = if at.record_now {
            let m = self
                .recorder
                .record(&self.model, b.x.clone(), &ForwardCtx::TRAIN, |out| {
                    loss.compute(out, &b.target)
                })
                .finish::<N>();
            let mut r = m.to_record(RunKind::Baseline, at.step as u64, 0.0, false);
            r.nonfinite = locate(at.step as u64, &m, names);
            self.records.push(r);
            m.loss
        } else {
            let out = Network::forward(&self.model, b.x.clone(), &ForwardCtx::TRAIN);
            read(loss.compute(out, &b.target))
        };
        self.losses.push(value);
    }

    /// The head-only control: only the output head steps. Its loss is all it records; a
    /// non-finite loss stops its updates (the arm keeps its last weights).
    pub(crate) fn head_only_step(
        &mut self,
        b: &Batch,
        at: StepAt,
        loss: Loss,
        optimizer: &mut Optimizer,
    ) {
        let model = self.model.clone();
        let out = Network::forward(&model, b.x.clone(), &ForwardCtx::TRAIN);
        let l = loss.compute(out, &b.target);
        let value = read(l.clone());
        if value.is_finite() {
            let mut grads = l.backward();
            let (mut gp, norm_sq) = head_gradients(&model, &mut grads);
            optimizer.clip(&mut gp, &model, norm_sq);
            self.model = optimizer.step(at.lr, model, gp);
        }
        self.losses.push(value);
    }

    /// The real run: recorded on recorded steps (tap, forward, loss, backward, record, optimiser
    /// step, read back: one [`Recorder::record`]), a plain step otherwise. A non-finite loss on
    /// an unrecorded step is probed again, fully recorded, on the weights that produced it, to
    /// find its producer. Returns the loss and the first non-finite value, if this step had one
    /// (the caller stops there). The loss is not pushed: the caller does, after the other arms.
    pub(crate) fn real_step(
        &mut self,
        b: &Batch,
        at: StepAt,
        loss: Loss,
        optimizer: &mut Optimizer,
        settings: &OptimSettings,
        names: &dyn Fn(usize) -> String,
    ) -> (f64, Option<NonFinite>) {
        let step = at.step as u64;
        let model = self.model.clone();
        if at.record_now {
            let observed = self
                .recorder
                .record(&model, b.x.clone(), &ForwardCtx::TRAIN, |out| {
                    loss.compute(out, &b.target)
                });
            // Only global-norm clipping reads it (it costs a pass over every gradient).
            let norm_sq = settings.clip_norm.map(|_| observed.grad_norm_sq(&model));
            let (stepped, m) = observed.update(model, |model, grads| {
                let mut gp = GradientsParams::from_grads(grads, &model);
                optimizer.clip(&mut gp, &model, norm_sq);
                optimizer.step(at.lr, model, gp)
            });
            let clipped = settings.clip_norm.is_some_and(|c| m.grad_norm > c);
            let mut r = m.to_record(RunKind::Real, step, at.lr, clipped);
            let nf = locate(step, &m, names);
            r.nonfinite = nf.clone();
            self.records.push(r);
            self.model = stepped;
            return (m.loss, nf);
        }
        let out = model.forward(b.x.clone(), &ForwardCtx::TRAIN);
        let l = loss.compute(out, &b.target);
        let value = read(l.clone());
        if value.is_finite() {
            let grads = l.backward();
            let norm_sq = settings
                .clip_norm
                .and_then(|_| global_grad_norm_sq(&model, &grads));
            let mut gp = GradientsParams::from_grads(grads, &model);
            optimizer.clip(&mut gp, &model, norm_sq);
            self.model = optimizer.step(at.lr, model, gp);
            return (value, None);
        }
        // Find the producer: probe this step again, fully recorded, on the weights that
        // produced it (batch statistics only, running averages untouched).
        let m = probe(
            &model,
            b.x.clone(),
            |y| loss.compute(y, &b.target),
            RecordOptions::default(),
        );
        let mut r = m.to_record(RunKind::Real, step, at.lr, false);
        let depth = model.num_layers();
        let nf = locate(step, &m, names).or_else(|| {
            Some(NonFinite {
                step,
                layer: depth + 1,
                layer_name: "head".into(),
                kind: NonFiniteKind::Loss,
            })
        });
        r.nonfinite = nf.clone();
        self.records.push(r);
        (value, nf)
    }
}

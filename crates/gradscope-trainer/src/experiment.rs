//! Running an experiment: the real run and its learning-rate-zero baseline, step by step on the
//! same batches, recorded by the diagnostics, written to a run folder.
//!
//! # The baseline
//! The baseline is built from the same seed, so its initial weights are bit-identical to the real
//! run's, and it is fed the same batch at every step. It never calls the optimiser: burn's
//! optimisers leave weights in place at learning rate 0 but still advance their state
//! (momentum, Adam's moments) and turn a non-finite gradient into NaN weights (0 × inf), so
//! skipping the step is the only way the weights stay exactly put. Batch norm's running
//! statistics are treated identically in both runs: every training-mode forward of either run
//! folds its batch statistics into that run's own running averages (momentum 0.1), so both runs
//! evaluate with averages over the same batches. Diagnostic probes never update them.
//!
//! # The head-only control
//! With `train.head_only`, a third arm starts from the same weights and sees the same batches,
//! but only its output head is updated (its own optimiser, the same settings and learning rate;
//! the layers below get no gradient at all). A net whose gradients vanish before they reach the
//! hidden layers is, in effect, this arm: comparing the real run with it on the test split says
//! whether the layers below the head contributed anything (see [`crate::signal::head_only_control`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::Device;
use gradscope_config::{ConfigError, Experiment, OptimKind, config_hash, to_toml};
use gradscope_data::{Dataset, Targets, Task};
use gradscope_diagnostics::{
    DiagnosisContext, EvalRecord, NonFinite, Real, StepRecord, diagnose, write_long_csv,
};
use gradscope_model::{AnyNet, ForwardCtx, ModelFacts, ModelSpec, Network};
use tracing::{info, warn};

use crate::arm::{Arm, StepAt, read};
use crate::batches::{Batch, EvalSets, Loss, TargetTensor, batch};
use crate::error::{Error, Result};
use crate::folder::RunFolder;
use crate::memory::Workload;
use crate::optimizer::Optimizer;
use crate::output::{
    FinalMetrics, Finals, Seeds, Status, Summary, TheoryPrediction, Verdict, versions, write_atomic,
};
use crate::progress::{Progress, ProgressCallback};
use crate::signal::{learning_signal, verdict, versus_chance};

/// How to run an experiment (what is not in the config).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run folder.
    pub out_dir: PathBuf,
    /// Skip the learning-rate-zero baseline.
    pub no_baseline: bool,
    /// Called after every training step with how far the run got (`None`: no reports). The
    /// library draws nothing itself; the `gradscope` command draws a progress bar from these.
    pub progress: Option<ProgressCallback<Progress>>,
    /// Set by Ctrl-C: stop after the current step and write what is done.
    pub interrupt: Arc<AtomicBool>,
    /// Draw the plots and `report.html` into the run folder.
    pub report: bool,
    /// Also write TensorBoard event files (`tensorboard/{real,baseline}/`).
    pub tensorboard: bool,
    /// Memory the run may use (default: what the system has available); see [`crate::memory`].
    pub max_memory: Option<u64>,
}

/// What a finished (or stopped) run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The summary as written.
    pub summary: Summary,
    /// The run folder.
    pub out_dir: PathBuf,
}

/// What the engine knows about a network beyond the [`Network`] trait.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkInfo {
    /// One line for the console, `summary.json` and the report.
    pub description: String,
    /// What the diagnosis and the theory may assume about it ([`ModelSpec::facts`] for a
    /// built-in model): remedies then fit the model, and the theory predicts its backward
    /// signal at initialisation where it covers it. `None`: only its layers are known.
    pub facts: Option<ModelFacts>,
    /// Built from the experiment's `[model]` section: remedies then name the config keys that
    /// make them, and the saved config keeps that section.
    pub from_config: bool,
}

impl NetworkInfo {
    /// A built-in model, built from the config.
    pub fn builtin(spec: &ModelSpec) -> Self {
        Self {
            description: spec.describe(),
            facts: Some(spec.facts()),
            from_config: true,
        }
    }

    /// Any other network, described in one line.
    pub fn custom(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            facts: None,
            from_config: false,
        }
    }

    /// The same, with what is known about the network's make-up (its activation, init, skips,
    /// norms): the diagnosis then picks remedies for it, as it does for a built-in model.
    pub fn with_facts(mut self, facts: ModelFacts) -> Self {
        self.facts = Some(facts);
        self
    }
}

/// The live TensorBoard writer and how many records of each arm it has written.
struct LiveSink {
    writer: gradscope_report::LiveTensorboard,
    real: usize,
    baseline: usize,
}

impl LiveSink {
    /// A sink writing into `staging` (which becomes the run folder `out_dir`), and the
    /// command that follows it logged.
    fn open(out_dir: &Path, staging: &Path) -> Self {
        let parent = out_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        info!(
            "TensorBoard follows the run with: tensorboard --logdir {}",
            parent.display()
        );
        LiveSink {
            writer: gradscope_report::LiveTensorboard::new(staging),
            real: 0,
            baseline: 0,
        }
    }

    /// Appends the records not yet written, real then baseline (each arm has its own file).
    fn append(
        &mut self,
        real: &[StepRecord],
        baseline: &[StepRecord],
    ) -> std::result::Result<(), gradscope_report::ReportError> {
        for r in &real[self.real..] {
            self.writer.append(r)?;
        }
        self.real = real.len();
        for r in &baseline[self.baseline..] {
            self.writer.append(r)?;
        }
        self.baseline = baseline.len();
        Ok(())
    }
}

/// Per-sample results of an evaluation on the test split, for the comparison with chance.
struct EvalResult {
    metrics: FinalMetrics,
    /// Per test row: 1/0 correctness (classification) or squared error (regression).
    per_sample: Vec<f64>,
}

fn evaluate<N: Network>(model: &N, sets: &EvalSets, loss: Loss) -> EvalResult {
    let m = model.valid();
    let eval_one = |b: &Batch, per_sample: bool| {
        let out = Network::forward(&m, b.x.clone(), &ForwardCtx::EVAL);
        let l = read(loss.compute(out.clone(), &b.target));
        let (acc, samples) = match &b.target {
            TargetTensor::Classes(c) => {
                let pred: Vec<i64> = out
                    .argmax(1)
                    .into_data()
                    .convert::<i64>()
                    .try_to_vec::<i64>()
                    .unwrap_or_default();
                let truth: Vec<i64> = c
                    .clone()
                    .into_data()
                    .convert::<i64>()
                    .try_to_vec::<i64>()
                    .unwrap_or_default();
                let hits: Vec<f64> = pred
                    .iter()
                    .zip(&truth)
                    .map(|(p, t)| f64::from(p == t))
                    .collect();
                let acc = hits.iter().sum::<f64>() / b.rows.max(1) as f64;
                (Some(Real(acc)), if per_sample { hits } else { Vec::new() })
            }
            TargetTensor::Values(v) => {
                let samples = if per_sample {
                    let [_, k] = v.dims();
                    let se: Vec<f32> = out
                        .sub(v.clone())
                        .square()
                        .into_data()
                        .try_to_vec::<f32>()
                        .unwrap_or_default();
                    se.chunks(k.max(1))
                        .map(|r| r.iter().map(|&x| x as f64).sum::<f64>() / k as f64)
                        .collect()
                } else {
                    Vec::new()
                };
                (None, samples)
            }
        };
        (l, acc, samples)
    };
    let (train_loss, train_acc, _) = eval_one(&sets.train, false);
    let (test_loss, test_acc, per_sample) = eval_one(&sets.test, true);
    EvalResult {
        metrics: FinalMetrics {
            train_loss: Real(train_loss),
            test_loss: Real(test_loss),
            test_accuracy: test_acc,
            train_accuracy: train_acc,
        },
        per_sample,
    }
}

/// Per-sample scores of the best constant prediction on the test split: the majority training
/// class, or the mean training target.
fn chance_scores(data: &Dataset) -> Vec<f64> {
    match (&data.train.targets, &data.test.targets) {
        (Targets::Classes(train), Targets::Classes(test)) => {
            let counts = class_counts(train, data.task.output_dim());
            let majority = counts
                .iter()
                .enumerate()
                .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
                .map_or(0, |(i, _)| i as u32);
            test.iter().map(|&c| f64::from(c == majority)).collect()
        }
        (Targets::Values(train), Targets::Values(test)) => {
            let k = data.task.output_dim().max(1);
            let n = (train.len() / k).max(1) as f64;
            let mut mean = vec![0.0f64; k];
            for row in train.chunks(k) {
                for (m, &v) in mean.iter_mut().zip(row) {
                    *m += v as f64 / n;
                }
            }
            test.chunks(k)
                .map(|row| {
                    row.iter()
                        .zip(&mean)
                        .map(|(&v, m)| (v as f64 - m).powi(2))
                        .sum::<f64>()
                        / k as f64
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// How many training rows carry each of `classes` labels (labels outside are not counted).
fn class_counts(labels: &[u32], classes: usize) -> Vec<usize> {
    let mut counts = vec![0usize; classes.max(1)];
    for &c in labels {
        if let Some(n) = counts.get_mut(c as usize) {
            *n += 1;
        }
    }
    counts
}

/// The training loss of the best constant prediction: for cross-entropy the entropy of the
/// training classes' frequencies (ln 10 for ten balanced classes), for squared error the targets'
/// variance (per output, averaged; for one-hot classes Σ p(1 − p) / K). A net that learns only
/// its output bias plateaus here.
fn constant_loss(data: &Dataset, loss: Loss) -> Option<f64> {
    let k = data.task.output_dim().max(1);
    match &data.train.targets {
        Targets::Classes(c) => {
            let counts = class_counts(c, k);
            let n = c.len().max(1) as f64;
            let p = counts.iter().map(|&m| m as f64 / n);
            Some(match loss {
                Loss::CrossEntropy => -p.filter(|&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>(),
                Loss::Mse => p.map(|p| p * (1.0 - p)).sum::<f64>() / k as f64,
            })
        }
        Targets::Values(v) => {
            let rows = (v.len() / k).max(1) as f64;
            let var = (0..k)
                .map(|j| {
                    let col = v.iter().skip(j).step_by(k).map(|&x| x as f64);
                    let mean = col.clone().sum::<f64>() / rows;
                    col.map(|x| (x - mean).powi(2)).sum::<f64>() / rows
                })
                .sum::<f64>();
            Some(var / k as f64)
        }
    }
}

/// Loads the data and builds the model of an experiment: what both `run` and `inspect` need.
pub fn prepare(exp: &Experiment) -> Result<(Dataset, ModelSpec, Loss)> {
    let data = gradscope_data::load(&exp.data, exp.data_seed)?;
    let loss = Loss::resolve(exp.train.loss, &data.task).map_err(|rule| {
        ConfigError::invalid("train.loss", format!("{:?}", exp.raw.train.loss), rule)
    })?;
    let spec = exp.model.spec(gradscope_model::DataShape {
        input_dim: data.input_dim,
        output_dim: data.task.output_dim(),
        step_features: data.step_features,
    });
    spec.validate()?;
    Ok((data, spec, loss))
}

/// Builds the model with the experiment's seed: every call gives bit-identical weights.
pub fn build_model(spec: &ModelSpec, seed: u64, device: &Device) -> AnyNet {
    spec.init_seeded(seed, device)
}

/// What a training run of `spec` on `data` holds at once, for the memory check.
pub fn workload(exp: &Experiment, data: &Dataset, spec: &ModelSpec, arms: usize) -> Workload {
    let optimizer_slots = match exp.optim.kind {
        OptimKind::Sgd => usize::from(exp.optim.momentum > 0.0),
        OptimKind::Adam | OptimKind::AdamW => 2,
    };
    Workload {
        footprint: spec.footprint(),
        batch: exp.train.batch_size,
        eval_rows: data.train.n.max(data.test.n),
        data_values: data.train.x.len() + data.test.x.len(),
        optimizer_slots,
        arms,
    }
}

/// Runs the experiment and writes its folder.
///
/// Before the first step: the model's memory is checked against what may be used, and the run
/// folder is locked and proven writable ([`RunFolder`]); the run is written into a staging folder
/// and swapped into place at the end, so the folder holds either the previous run or this one.
pub fn run_experiment(exp: &Experiment, opts: &RunOptions) -> Result<RunOutcome> {
    let (data, spec, loss) = prepare(exp)?;
    let baseline_on = exp.train.baseline && !opts.no_baseline;
    crate::memory::check(
        &format!("{} ({})", exp.name, spec.describe()),
        &workload(
            exp,
            &data,
            &spec,
            1 + usize::from(baseline_on) + usize::from(exp.train.head_only),
        ),
        opts.max_memory,
    )?;
    let info = NetworkInfo::builtin(&spec);
    train(
        exp,
        &data,
        loss,
        &info,
        |d| build_model(&spec, exp.seed, d),
        opts,
    )
}

/// Trains any [`Network`] the way `gradscope run` trains a built-in one: the real run beside its
/// learning-rate-zero baseline (and the head-only control when `exp.train.head_only`), on the
/// batches of `data`, recorded, judged, diagnosed and written to `opts.out_dir` with its report.
///
/// `build` makes the network on a device and is called once per arm: every call must give the
/// same weights, which is what drawing them under [`gradscope_model::with_seed`] does. The
/// experiment's `[model]` section is not used (`info` describes the network); everything else
/// in it is (data seed, optimiser, steps, recording, thresholds, backend).
///
/// The run executes on a thread of rayon's pool ([`crate::pool::on_pool`]), so the matrix
/// products burn hands to rayon share the cores with the loop instead of competing with it.
pub fn train<N, F>(
    exp: &Experiment,
    data: &Dataset,
    loss: Loss,
    info: &NetworkInfo,
    build: F,
    opts: &RunOptions,
) -> Result<RunOutcome>
where
    N: Network + Clone,
    F: Fn(&Device) -> N + Sync,
{
    crate::pool::on_pool(|| train_here(exp, data, loss, info, &build, opts))
}

fn train_here<N, F>(
    exp: &Experiment,
    data: &Dataset,
    loss: Loss,
    info: &NetworkInfo,
    build: &F,
    opts: &RunOptions,
) -> Result<RunOutcome>
where
    N: Network + Clone,
    F: Fn(&Device) -> N + Sync,
{
    let started = Instant::now();
    let baseline_on = exp.train.baseline && !opts.no_baseline;
    let head_only_on = exp.train.head_only;
    let folder = RunFolder::open(&opts.out_dir)?;
    info!(name = %exp.name, dataset = %data.description, model = %info.description, "run started");

    let device = exp.backend.autodiff_device();
    let eval_device = exp.backend.device();
    let input_mean_square = data
        .train
        .x
        .iter()
        .map(|&v| (v as f64) * (v as f64))
        .sum::<f64>()
        / data.train.x.len().max(1) as f64;
    let build = |d: &Device| gradscope_model::leaf_params(build(d));
    let mut real = Arm::new(build(&device));
    let mut base = baseline_on.then(|| Arm::new(build(&device)));
    let mut head = head_only_on.then(|| Arm::new(build(&device)));
    let depth = real.model.num_layers();
    let layer_names: Vec<String> = (1..=depth).map(|l| real.model.layer_name(l)).collect();
    let mut optimizer = Optimizer::new(&exp.optim);
    let mut head_optimizer = Optimizer::new(&exp.optim);
    let sets = EvalSets::new(data, &eval_device);
    let mut sampler =
        gradscope_data::BatchSampler::new(data.train.n, exp.train.batch_size, exp.data_seed);
    let names = |l: usize| {
        layer_names
            .get(l.wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| format!("layer {l}"))
    };

    // Live TensorBoard: every record is appended to its arm's event file as soon as it is final
    // (after the step's evaluation), in the staging folder, which becomes the run folder.
    let mut live = opts
        .tensorboard
        .then(|| LiveSink::open(&opts.out_dir, folder.staging()));

    let steps = exp.train.steps;
    let mut status = Status::Completed;
    let mut first_nonfinite: Option<NonFinite> = None;
    let mut last_eval: Option<(EvalResult, Option<EvalResult>)> = None;
    let mut completed = 0;

    for step in 0..steps {
        if opts.interrupt.load(Ordering::SeqCst) {
            status = Status::Interrupted;
            warn!(step, "interrupted: writing what is done");
            break;
        }
        let indices = sampler.next_indices();
        let b = batch(&data.train, &indices, &device);
        let last = step + 1 == steps;
        let eval_now = step % exp.train.eval_every == 0 || last;
        let record_now = step % exp.train.record_every == 0 || eval_now;
        let lr = exp.optim.lr_at(step, steps);

        let at = StepAt {
            step,
            lr,
            record_now,
        };
        if let Some(arm) = base.as_mut() {
            arm.baseline_step(&b, at, loss, &names);
        }
        if let Some(arm) = head.as_mut() {
            arm.head_only_step(&b, at, loss, &mut head_optimizer);
        }
        let (value, nonfinite) = real.real_step(&b, at, loss, &mut optimizer, &exp.optim, &names);
        real.losses.push(value);
        completed = step + 1;

        if eval_now && nonfinite.is_none() {
            let r = evaluate(&real.model, &sets, loss);
            let bl = base.as_ref().map(|arm| evaluate(&arm.model, &sets, loss));
            attach_eval(&mut real.records, &r.metrics);
            if let (Some(arm), Some(bl)) = (base.as_mut(), bl.as_ref()) {
                attach_eval(&mut arm.records, &bl.metrics);
            }
            last_eval = Some((r, bl));
        }
        if let Some(sink) = live.as_mut() {
            let base_records = base.as_ref().map_or(&[][..], |a| a.records.as_slice());
            if let Err(e) = sink.append(&real.records, base_records) {
                warn!("live TensorBoard stopped ({e}); the event files are written at the end");
                live = None;
            }
        }
        crate::progress::report(
            opts.progress.as_ref(),
            Progress {
                step: step + 1,
                steps,
                loss: value,
                baseline_loss: base.as_ref().and_then(|a| a.losses.last().copied()),
            },
        );

        if let Some(nf) = nonfinite {
            warn!(
                step,
                layer = nf.layer,
                kind = nf.kind.name(),
                "non-finite value: stopping"
            );
            first_nonfinite = Some(nf);
            status = Status::Nonfinite;
            break;
        }
    }

    // Final metrics: the last evaluation, or a fresh one if the run stopped early.
    let (real_eval, base_eval) = match last_eval {
        Some((r, b)) if status == Status::Completed => (r, b),
        _ => {
            let r = evaluate(&real.model, &sets, loss);
            let b = base.as_ref().map(|arm| evaluate(&arm.model, &sets, loss));
            (r, b)
        }
    };
    let judged = judge_run(
        exp,
        data,
        loss,
        info,
        &sets,
        (&real, base.as_ref(), head.as_ref()),
        &real_eval,
        first_nonfinite.as_ref(),
    );
    let wall = started.elapsed().as_secs_f64();
    let summary = Summary {
        schema_version: crate::output::SUMMARY_SCHEMA_VERSION,
        theory: info
            .facts
            .and_then(|f| theory_at_init(&f, &real.records, input_mean_square)),
        depth,
        time_steps: info.facts.and_then(|f| match f.family {
            gradscope_model::Family::Recurrent { steps, .. } => Some(steps),
            _ => None,
        }),
        name: exp.name.clone(),
        config_hash: config_hash(&exp.raw),
        status,
        interrupted: status == Status::Interrupted,
        verdict: judged.verdict,
        verdict_reason: judged.verdict_reason,
        constant_loss: constant_loss(data, loss).map(Real),
        learning_signal: judged.signal,
        head_only: judged.head_only,
        diagnosis: judged.diagnosis,
        first_nonfinite,
        finals: Finals {
            real: real_eval.metrics,
            baseline: base_eval.map(|b| b.metrics),
        },
        steps_completed: completed,
        steps_planned: steps,
        steps_per_second: completed as f64 / wall.max(1e-9),
        wall_time_s: wall,
        seeds: Seeds {
            init: exp.seed,
            data: exp.data_seed,
        },
        device: exp.backend.name().to_string(),
        dataset: data.description.clone(),
        loss: loss.name().to_string(),
        model: info.description.clone(),
        versions: versions(),
    };
    write_run(
        exp,
        opts,
        &saved_config(exp, info),
        live.is_some(),
        folder.staging(),
        (&real.records, base.as_ref().map(|a| a.records.as_slice())),
        &summary,
    )?;
    folder.commit()?;
    Ok(RunOutcome {
        summary,
        out_dir: opts.out_dir.clone(),
    })
}

/// The verdict and its reason: `diverged` when a non-finite value ended the run, or when the loss
/// spiked and the run did not go on to learn; otherwise the learning signal's verdict.
fn judge(
    signal: Option<&gradscope_record::LearningSignal>,
    nonfinite: Option<&NonFinite>,
    diagnosis: &gradscope_diagnostics::Diagnosis,
    exp: &Experiment,
) -> Option<(Verdict, String)> {
    let spikes = &diagnosis.evidence.loss_spikes;
    let diverged = if let Some(nf) = nonfinite {
        Some(format!(
            "stopped at step {}: a non-finite {} appeared in layer {} ({})",
            nf.step,
            nf.kind.name().replace('_', " "),
            nf.layer,
            nf.layer_name
        ))
    } else if !spikes.is_empty() && verdict(signal, None).map(|(v, _)| v) != Some(Verdict::Learning)
    {
        Some(format!(
            "had its loss spike above {}× its running median at step{} {}, and did not learn",
            exp.diagnosis.spike_factor,
            if spikes.len() > 1 { "s" } else { "" },
            spikes
                .iter()
                .take(5)
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        None
    };
    verdict(signal, diverged)
}

/// The theory's prediction at initialisation, anchored at the first record's last layer.
fn theory_at_init(
    facts: &ModelFacts,
    records: &[StepRecord],
    input_mean_square: f64,
) -> Option<TheoryPrediction> {
    let first = records.first()?;
    let norms = first.act_grad_norms();
    let last = *norms.last()?;
    if !last.is_finite() {
        return None;
    }
    let first_out_ms = match (first.layers.act_mean.first(), first.layers.act_std.first()) {
        (Some(Some(m)), Some(Some(s))) => m.get().powi(2) + s.get().powi(2),
        _ => 1.0,
    };
    let case =
        gradscope_diagnostics::TheoryCase::for_model(facts, input_mean_square, first_out_ms)?;
    Some(TheoryPrediction {
        case: serde_json::to_value(case).unwrap_or_default(),
        predicted_activation_grad_norm: case
            .predicted_norms(norms.len(), last)
            .into_iter()
            .map(Real)
            .collect(),
    })
}

fn attach_eval(records: &mut [StepRecord], m: &FinalMetrics) {
    if let Some(r) = records.last_mut() {
        r.eval = Some(EvalRecord {
            train_loss: m.train_loss,
            test_loss: m.test_loss,
            test_accuracy: m.test_accuracy,
            train_accuracy: m.train_accuracy,
        });
    }
}

/// What a finished run's arms say: the learning signal against the baseline, the head-only
/// control, the diagnosis (with the config keys of its remedies for a model built from the
/// config) and the verdict with its reason.
struct Judgement {
    signal: Option<gradscope_record::LearningSignal>,
    head_only: Option<gradscope_record::HeadOnlyControl>,
    diagnosis: gradscope_diagnostics::Diagnosis,
    verdict: Option<Verdict>,
    verdict_reason: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn judge_run<N: Network>(
    exp: &Experiment,
    data: &Dataset,
    loss: Loss,
    info: &NetworkInfo,
    sets: &EvalSets,
    (real, base, head): (&Arm<N>, Option<&Arm<N>>, Option<&Arm<N>>),
    real_eval: &EvalResult,
    first_nonfinite: Option<&NonFinite>,
) -> Judgement {
    let chance = chance_scores(data);
    let versus = (!real_eval.per_sample.is_empty() && real_eval.per_sample.len() == chance.len())
        .then(|| match data.task {
            Task::Classification { .. } => {
                versus_chance("accuracy", &real_eval.per_sample, &chance, true)
            }
            Task::Regression { .. } => versus_chance("mse", &real_eval.per_sample, &chance, false),
        });
    let signal = base.map(|arm| {
        learning_signal(
            &real.losses,
            &arm.losses,
            exp.train.signal_window,
            exp.train.signal_z,
            versus.clone(),
        )
    });
    let head_only = head.map(|arm| {
        let e = evaluate(&arm.model, sets, loss);
        let higher_is_better = matches!(data.task, Task::Classification { .. });
        let metric = if higher_is_better { "accuracy" } else { "mse" };
        crate::signal::head_only_control(
            metric,
            &real_eval.per_sample,
            &e.per_sample,
            higher_is_better,
            e.metrics,
        )
    });
    let signal = signal.map(|mut s| {
        if let Some(arm) = head {
            crate::signal::attach_head_only(&mut s, &arm.losses);
        }
        s
    });
    let ctx = DiagnosisContext {
        model: info.facts,
        lr: exp.optim.lr,
        clipping: exp.optim.clipping(),
    };
    let mut diagnosis = diagnose(&real.records, &ctx, &exp.diagnosis);
    if info.from_config {
        diagnosis = gradscope_config::with_config_settings(diagnosis);
    }
    let (verdict, verdict_reason) =
        judge(signal.as_ref(), first_nonfinite, &diagnosis, exp).unzip();
    // The control's finding closes the verdict's reason, so every place that shows the reason
    // (console, report, loss-plot caption) says it.
    let verdict_reason = match (verdict_reason, &head_only) {
        (Some(why), Some(h)) if verdict != Some(Verdict::Diverged) => {
            Some(format!("{why}; {}", h.reason))
        }
        (why, _) => why,
    };
    Judgement {
        signal,
        head_only,
        diagnosis,
        verdict,
        verdict_reason,
    }
}

/// The config to save with the run. A network that is not a built-in one is not what the config's
/// `[model]` section (defaults, unused) describes, so that section is left out and a comment names
/// the network instead: nothing reading the folder (the report's plain-stack bound, a person)
/// mistakes the defaults for the model.
fn saved_config(exp: &Experiment, info: &NetworkInfo) -> String {
    let text = to_toml(&exp.raw);
    if info.from_config {
        return text;
    }
    match toml::from_str::<toml::Table>(&text) {
        Ok(mut table) => {
            table.remove("model");
            format!(
                "# model: {} (not a built-in model: no [model] section)\n{}",
                info.description.replace('\n', " "),
                toml::to_string(&table).unwrap_or(text)
            )
        }
        Err(_) => text,
    }
}

/// Writes the run into `dir` (the staging folder): config, records (JSON Lines and long CSV), the
/// summary, and the report.
fn write_run(
    exp: &Experiment,
    opts: &RunOptions,
    config: &str,
    tensorboard_written: bool,
    dir: &Path,
    (real, baseline): (&[StepRecord], Option<&[StepRecord]>),
    summary: &Summary,
) -> Result<()> {
    use crate::output::run_folder::{CONFIG, METRICS_CSV, METRICS_JSONL, SUMMARY};
    write_atomic(&dir.join(CONFIG), config.as_bytes())?;
    // Interleave by step: the real record, then the baseline's.
    let mut all: Vec<&StepRecord> = Vec::with_capacity(real.len() * 2);
    let mut b = baseline.unwrap_or(&[]).iter().peekable();
    for r in real {
        while let Some(x) = b.next_if(|x| x.step < r.step) {
            all.push(x);
        }
        all.push(r);
        while let Some(x) = b.next_if(|x| x.step == r.step) {
            all.push(x);
        }
    }
    all.extend(b);
    let mut jsonl = String::new();
    for r in &all {
        jsonl.push_str(&r.to_json_line());
        jsonl.push('\n');
    }
    write_atomic(&dir.join(METRICS_JSONL), jsonl.as_bytes())?;
    let owned: Vec<StepRecord> = all.into_iter().cloned().collect();
    let mut csv = Vec::new();
    write_long_csv(&mut csv, &exp.name, &owned).map_err(|e| Error::io(dir.join(METRICS_CSV), e))?;
    write_atomic(&dir.join(METRICS_CSV), &csv)?;
    write_atomic(&dir.join(SUMMARY), summary.to_json().as_bytes())?;
    if opts.tensorboard && !tensorboard_written {
        gradscope_report::write_tensorboard(dir, &owned)?;
    }
    if opts.report {
        // The results are safely written; a report that cannot be drawn is worth a warning,
        // not the loss of the run.
        let drawn = gradscope_report::load_run(dir).and_then(|mut run| {
            // The report names the folder the run will be in, not the staging folder.
            run.dir = opts.out_dir.clone();
            gradscope_report::write_report(dir, &[run])
        });
        if let Err(e) = drawn {
            warn!("report not written: {e}");
        }
    }
    Ok(())
}

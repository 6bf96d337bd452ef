//! The `gradscope` command line: argument parsing, logging, progress, and error reporting.
//!
//! Results (tables, summaries, the paths of what was written) go to standard output, so that
//! `gradscope run x.toml > results.txt` keeps them; logs, progress bars and errors go to
//! standard error. `-q` silences logs and progress, never results.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};
use gradscope_config::{DEFAULTS_TOML, Experiment, Override, config_hash, load_config, to_toml};
use gradscope_model::BackendKind;
use gradscope_trainer::bench::{BenchMode, Part};
use gradscope_trainer::error::{Error, Result, exit_code};
use gradscope_trainer::experiment::{RunOptions, run_experiment};
use gradscope_trainer::inspect::ProbeLoss;
use gradscope_trainer::memory::parse_size;
use gradscope_trainer::output::Status;
use gradscope_trainer::sweep::{Launcher, RunSpec};
use tracing_subscriber::EnvFilter;

use crate::progress;

/// See, measure and fix vanishing and exploding gradients in deep networks.
#[derive(Debug, Parser)]
#[command(name = "gradscope", version, about, long_about = None)]
pub struct Cli {
    /// Compute backend, overriding the config's `device` (flex, ndarray; GPU with a cargo feature).
    #[arg(long, global = true, value_name = "BACKEND")]
    pub device: Option<String>,
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No logs and no progress bars, only errors; results still print on stdout.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Compute threads (default: the config's `train.threads`, 0 = all cores; at most 512).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Memory a command may use, such as `8G` (default: what the system has available). Sizes
    /// that cannot fit are refused before anything is built.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The lecture's scalar chain h_k = w*h_(k-1) + b beside its closed forms.
    Chain(ChainArgs),
    /// A network at initialisation, layer by layer, beside the theory (no training).
    Inspect(InspectArgs),
    /// Train a config: the real run beside its learning-rate-zero baseline.
    Run(RunArgs),
    /// Print the full commented default config, or the resolved form of a config.
    Config(ConfigArgs),
    /// Run a sweep: a base config and axes over any keys, in parallel, resumable, shardable.
    Sweep(SweepArgs),
    /// Merge the folders of a sharded sweep into one.
    Merge(MergeArgs),
    /// Draw plots and report.html for a run folder or a sweep folder.
    Report(ReportArgs),
    /// Time training steps with and without diagnostics (the grid, or one cell).
    Bench(BenchArgs),
}

/// `gradscope bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Linear layers (with --width, --batch and --mode: one cell instead of the grid).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Width of every layer.
    #[arg(long)]
    pub width: Option<usize>,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// What a step measures.
    #[arg(long, value_enum)]
    pub mode: Option<BenchModeArg>,
    /// Timed steps (default: enough for about 2 GFLOP of work, 10 to 200).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// One JSON object per cell, one per line.
    #[arg(long)]
    pub json: bool,
    /// Parts of the `full` recording to leave out (comma-separated), to see what each costs.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub skip: Vec<PartArg>,
    /// How `full` taps the activation gradients: the backward hook, or the zero-leaf reference
    /// it replaced (to measure one against the other).
    #[arg(long, value_enum, default_value_t = TapArg::Hook)]
    pub tap: TapArg,
}

/// `--tap` of `gradscope bench` ([`gradscope_trainer::bench::TapMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TapArg {
    /// The backward hook (a burn backend extension), reduced as backward passes through.
    Hook,
    /// A zero leaf added to every layer's output, its gradient read after backward.
    ZeroLeaf,
}

impl From<TapArg> for gradscope_trainer::bench::TapMode {
    fn from(t: TapArg) -> Self {
        match t {
            TapArg::Hook => gradscope_trainer::bench::TapMode::Hook,
            TapArg::ZeroLeaf => gradscope_trainer::bench::TapMode::ZeroLeaf,
        }
    }
}

/// `--mode` of `gradscope bench` ([`BenchMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchModeArg {
    /// Forward, backward, step, loss read back.
    Plain,
    /// Plus per-layer parameter-gradient norms.
    Gradnorms,
    /// Plus everything the recorder writes.
    Full,
}

impl From<BenchModeArg> for BenchMode {
    fn from(m: BenchModeArg) -> Self {
        match m {
            BenchModeArg::Plain => Self::Plain,
            BenchModeArg::Gradnorms => Self::Gradnorms,
            BenchModeArg::Full => Self::Full,
        }
    }
}

/// `--skip` of `gradscope bench` ([`Part`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartArg {
    /// Activation mean, spread, dead and saturated fractions.
    ActivationStats,
    /// Weight Frobenius and spectral norms.
    WeightNorms,
    /// Update-to-weight ratios.
    UpdateRatios,
}

impl From<PartArg> for Part {
    fn from(p: PartArg) -> Self {
        match p {
            PartArg::ActivationStats => Self::ActivationStats,
            PartArg::WeightNorms => Self::WeightNorms,
            PartArg::UpdateRatios => Self::UpdateRatios,
        }
    }
}

/// `--loss` of `gradscope inspect` ([`ProbeLoss`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeLossArg {
    /// `L = Σ y ⊙ r` with a fixed random `r ~ N(0, 1)`: the backward pass starts from a random
    /// direction independent of the network, which is what mean-field theory assumes (the
    /// gradient-independence assumption). The default.
    Readout,
    /// The config's loss on the batch's targets. Its top gradient depends on the network's own
    /// output, which correlates the backward pass with the forward one (for a linear net with
    /// σ_w² = 2 the first-to-last ratio comes out about 25 % above the theory).
    Data,
}

impl From<ProbeLossArg> for ProbeLoss {
    fn from(l: ProbeLossArg) -> Self {
        match l {
            ProbeLossArg::Readout => Self::Readout,
            ProbeLossArg::Data => Self::Data,
        }
    }
}

/// `gradscope report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder, or a folder of runs (a sweep).
    pub dir: PathBuf,
    /// Also write TensorBoard event files for every run found.
    #[arg(long)]
    pub tensorboard: bool,
}

/// `gradscope sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file (TOML: `base`, `[axes]`, optional `[zip]`).
    pub sweep: PathBuf,
    /// The sweep folder (default: sweeps/<sweep name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs at a time (each gets cores/jobs compute threads).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run only slice I of N (default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or
    /// JOB_COMPLETION_INDEX/GRADSCOPE_SHARDS).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Also write TensorBoard event files for every run.
    #[arg(long)]
    pub tensorboard: bool,
}

/// `gradscope merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders to merge.
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// The merged folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// `gradscope chain`.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// Number of layers N.
    #[arg(long, default_value_t = 20)]
    pub depth: usize,
    /// The shared weight w.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub w: f64,
    /// The shared bias b.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub b: f64,
    /// The input x.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub x: f64,
    /// An activation φ: the chain becomes h_k = w*φ(h_(k-1)) + b (tanh: Bengio et al. 1994),
    /// compared with the same recurrence in f64 and with its fixed point's per-step factor.
    #[arg(long)]
    pub activation: Option<String>,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options shared by the commands that read a config.
#[derive(Debug, Args)]
pub struct ConfigInput {
    /// The experiment config (TOML).
    pub config: PathBuf,
    /// Override any config key, e.g. `--set model.depth=40` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// `gradscope inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The config and its overrides.
    #[command(flatten)]
    pub input: ConfigInput,
    /// Number of seeds (initialisations and batches) to average over.
    #[arg(long, default_value_t = 4)]
    pub seeds: usize,
    /// Batch size of each probe.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// What to back-propagate: a random output direction (`readout`, what the theory assumes)
    /// or the config's loss on the data (`data`).
    #[arg(long, value_enum, default_value_t = ProbeLossArg::Readout)]
    pub loss: ProbeLossArg,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `gradscope run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// One or more experiment configs (TOML); several are run one after the other and compared.
    #[arg(required = true, num_args = 1..)]
    pub configs: Vec<PathBuf>,
    /// Override any config key, e.g. `--set model.depth=40` (repeatable, applies to every config).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// With one config: the run folder (default: runs/<name>-<config hash>). With several: the
    /// folder that holds their run folders (each <name>-<config hash>) and their comparison
    /// report.html (default: runs/compare-<hash of those folder names>, the same folder for the
    /// same configs in any order).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Initialisation seed, overriding the config's `seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Skip the learning-rate-zero baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Exit with code 6 when a run turns non-finite (default: it is a finding, exit 0).
    #[arg(long)]
    pub fail_on_nonfinite: bool,
    /// Print the summaries as JSON on stdout (one object per line).
    #[arg(long)]
    pub json: bool,
    /// Skip the plots and report.html.
    #[arg(long)]
    pub no_report: bool,
    /// Also write TensorBoard event files (loss of run and baseline, per-layer gradient norms).
    #[arg(long)]
    pub tensorboard: bool,
}

/// `gradscope config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print every key with its default and a comment.
    #[arg(long)]
    pub defaults: bool,
    /// A config to check and print resolved (defaults filled in, overrides applied).
    pub config: Option<PathBuf>,
    /// Override any config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

fn init_logging(cli: &Cli) {
    let level = if cli.quiet {
        "error"
    } else {
        match cli.verbose {
            // The library's events, and this command's own (this binary crate is `gradscope`).
            0 => "warn,gradscope_trainer=info,gradscope::cli=info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Writes results to standard output. A reader that went away (`| head`) is not an error of
/// ours: it ends the command quietly, as a pipeline expects.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
            _ => Error::io("standard output", e),
        })
}

/// `emit` with a newline.
fn emitln(text: &str) -> Result<()> {
    emit(&format!("{text}\n"))
}

/// Checks `--threads` against the same ceiling as the config's `train.threads`.
fn check_threads(cli: &Cli) -> Result<()> {
    match cli.threads {
        Some(n) if n > gradscope_config::MAX_THREADS => Err(Error::Usage(format!(
            "--threads {n}: must be at most {} (0 = all cores)",
            gradscope_config::MAX_THREADS
        ))),
        _ => Ok(()),
    }
}

/// Whether to draw progress bars (never with `-q` or `--no-progress`; indicatif hides them anyway
/// when standard error is not a terminal).
fn show_progress(cli: &Cli) -> bool {
    !cli.no_progress && !cli.quiet
}

fn set_threads(n: usize) {
    if n > 0 {
        // Only the first call in a process can size the global pool; later ones are ignored.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
}

fn backend(cli: &Cli) -> Result<Option<BackendKind>> {
    cli.device
        .as_deref()
        .map(|d| {
            d.parse::<BackendKind>().map_err(|e| {
                let names: Vec<&str> = BackendKind::available()
                    .into_iter()
                    .map(BackendKind::name)
                    .collect();
                let hint = gradscope_config::error::did_you_mean_word(d, &names);
                Error::Usage(format!("--device {d}: {e}{hint}"))
            })
        })
        .transpose()
}

/// Reads a config with `--set` overrides and the global `--device`.
pub fn read_experiment(cli: &Cli, input: &ConfigInput, extra: Vec<Override>) -> Result<Experiment> {
    let mut overrides = input
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if let Some(b) = backend(cli)? {
        overrides.push(Override::parse(&format!("device=\"{}\"", b.name()))?);
    }
    overrides.extend(extra);
    Ok(load_config(&input.config, &overrides)?)
}

fn cmd_chain(cli: &Cli, a: &ChainArgs) -> Result<i32> {
    if a.depth == 0 || a.depth > gradscope_model::MAX_DEPTH {
        return Err(Error::Usage(format!(
            "--depth {}: must be between 1 and 1000",
            a.depth
        )));
    }
    for (name, v) in [("--w", a.w), ("--b", a.b), ("--x", a.x)] {
        if !v.is_finite() {
            return Err(Error::Usage(format!("{name} {v}: must be finite")));
        }
    }
    let device = backend(cli)?.unwrap_or_default().autodiff_device();
    let activation = match &a.activation {
        None => None,
        Some(name) => Some(
            name.parse::<gradscope_model::Activation>()
                .map_err(|rule| {
                    let names = gradscope_model::Activation::ALL.map(|a| a.name());
                    let hint = gradscope_config::closest(name, names)
                        .map_or(String::new(), |c| format!(" (did you mean {c}?)"));
                    Error::Usage(format!("--activation {name}: {rule}{hint}"))
                })?,
        ),
    };
    let report =
        gradscope_trainer::chain::chain_report(a.depth, a.w, a.b, a.x, activation, &device);
    if a.json {
        emitln(&serde_json::to_string_pretty(&report).unwrap_or_default())?;
    } else {
        emit(&gradscope_trainer::chain::chain_table(&report))?;
    }
    Ok(exit_code::OK)
}

fn cmd_inspect(cli: &Cli, a: &InspectArgs) -> Result<i32> {
    let exp = read_experiment(cli, &a.input, Vec::new())?;
    set_threads(cli.threads.unwrap_or(exp.train.threads));
    if a.seeds == 0 || a.batch == 0 {
        return Err(Error::Usage(
            "--seeds and --batch must be at least 1".into(),
        ));
    }
    let report =
        gradscope_trainer::inspect::inspect(&exp, a.seeds, a.batch, a.loss.into(), cli.max_memory)?;
    if a.json {
        emitln(&serde_json::to_string_pretty(&report).unwrap_or_default())?;
    } else {
        emit(&gradscope_trainer::inspect::inspect_table(&report))?;
    }
    Ok(exit_code::OK)
}

fn cmd_run(cli: &Cli, a: &RunArgs) -> Result<i32> {
    let extra = match a.seed {
        Some(s) => vec![Override::parse(&format!("seed={s}"))?],
        None => Vec::new(),
    };
    // Check every config before running any, so a typo in the last one costs nothing.
    let experiments = a
        .configs
        .iter()
        .map(|c| {
            let input = ConfigInput {
                config: c.clone(),
                set: a.set.clone(),
            };
            read_experiment(cli, &input, extra.clone())
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(first) = experiments.first() {
        set_threads(cli.threads.unwrap_or(first.train.threads));
    }
    let interrupt = interrupt_flag();
    let several = experiments.len() > 1;
    let folders: Vec<String> = experiments
        .iter()
        .map(|exp| format!("{}-{}", exp.name, config_hash(&exp.raw)))
        .collect();
    // With several configs, one folder holds every run and the comparison of them all.
    let parent = match (&a.out, several) {
        (Some(out), true) => Some(out.clone()),
        (None, true) => Some(PathBuf::from("runs").join(compare_folder(&folders))),
        (_, false) => None,
    };
    let mut outcomes = Vec::new();
    let mut code = exit_code::OK;
    for (exp, folder) in experiments.iter().zip(&folders) {
        let out_dir = match (&parent, &a.out) {
            (Some(parent), _) => parent.join(folder),
            (None, Some(out)) => out.clone(),
            (None, None) => PathBuf::from("runs").join(folder),
        };
        let bar = show_progress(cli).then(|| progress::run_bar(exp.train.steps, &exp.name));
        let opts = RunOptions {
            out_dir,
            no_baseline: a.no_baseline,
            progress: bar.as_ref().map(progress::run_callback),
            interrupt: interrupt.clone(),
            report: !a.no_report,
            tensorboard: a.tensorboard,
            max_memory: cli.max_memory,
        };
        let outcome = run_experiment(exp, &opts);
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        let outcome = outcome?;
        let s = &outcome.summary;
        if a.json {
            emitln(&serde_json::to_string(s).unwrap_or_default())?;
        } else {
            emit(&gradscope_trainer::report_text::summary_text(
                s,
                &outcome.out_dir,
            ))?;
        }
        match s.status {
            Status::Interrupted => {
                code = exit_code::INTERRUPTED;
                outcomes.push(outcome);
                break;
            }
            Status::Nonfinite if a.fail_on_nonfinite => code = exit_code::NONFINITE,
            _ => {}
        }
        outcomes.push(outcome);
    }
    if several && !a.json {
        emit(&gradscope_trainer::report_text::comparison_table(&outcomes))?;
    }
    if let Some(parent) = parent.filter(|_| !a.no_report && !outcomes.is_empty()) {
        match write_comparison(&parent, &outcomes) {
            Ok(html) if a.json => tracing::info!("comparison report: {}", html.display()),
            Ok(html) => emitln(&format!("comparison report: {}", html.display()))?,
            // Every run is safely written; a report that cannot be drawn is worth a warning,
            // not a failed command (as for each run's own report).
            Err(e) => tracing::warn!("comparison report not written: {e}"),
        }
    }
    Ok(code)
}

/// The folder `run A B …` writes into without `--out`: `compare-<hash>`, where the hash
/// (the one of [`config_hash`]) is of the run folders' names, sorted. The
/// names carry each config's hash, so the same configs (and overrides) find the same folder
/// whatever their order, and rerunning them replaces their runs and report there instead of
/// piling up copies; other configs get another folder.
fn compare_folder(run_folders: &[String]) -> String {
    let mut names: Vec<&str> = run_folders.iter().map(String::as_str).collect();
    names.sort_unstable();
    format!(
        "compare-{}",
        gradscope_config::short_hash(&names.join("\n"))
    )
}

/// Draws one `report.html` (and its `plots/`) in `dir` comparing the runs of this command: the
/// runs just written, in command-line order, not every run folder that happens to be under
/// `dir` (`gradscope report DIR` draws those).
fn write_comparison(
    dir: &Path,
    outcomes: &[gradscope_trainer::experiment::RunOutcome],
) -> Result<PathBuf> {
    let runs = outcomes
        .iter()
        .map(|o| gradscope_report::load_run(&o.out_dir))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(gradscope_report::write_report(dir, &runs)?.html)
}

/// A flag that Ctrl-C, SIGTERM (what Slurm, Kubernetes and `timeout` send) and SIGHUP set: the
/// run stops after the current step and writes what it recorded, then exits 130. A further
/// signal changes nothing: exiting then would lose the records the first one is saving (SIGKILL
/// abandons them, for whoever means it).
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("gradscope: already stopping; writing what was recorded");
        }
    });
    interrupt
}

fn cmd_config(cli: &Cli, a: &ConfigArgs) -> Result<i32> {
    match (&a.config, a.defaults) {
        (Some(path), false) => {
            let input = ConfigInput {
                config: path.clone(),
                set: a.set.clone(),
            };
            let exp = read_experiment(cli, &input, Vec::new())?;
            emit(&to_toml(&exp.raw))?;
        }
        _ => emit(DEFAULTS_TOML)?,
    }
    Ok(exit_code::OK)
}

fn cmd_sweep(cli: &Cli, a: &SweepArgs) -> Result<i32> {
    let sweep = gradscope_trainer::sweep::load_sweep(&a.sweep)?;
    let shard = match &a.shard {
        Some(s) => Some(gradscope_trainer::sweep::Shard::parse(s)?),
        None => gradscope_trainer::sweep::Shard::from_env()?,
    };
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("sweeps").join(&sweep.name));
    // Parallel runs are child processes of this very executable.
    let launcher: Option<Arc<dyn Launcher>> = if a.jobs > 1 {
        let exe = std::env::current_exe().map_err(|e| Error::io("gradscope", e))?;
        Some(Arc::new(SelfLauncher { exe }))
    } else {
        None
    };
    let bar = show_progress(cli).then(progress::sweep_bar);
    let opts = gradscope_trainer::sweep::SweepOptions {
        out_dir: out_dir.clone(),
        jobs: a.jobs,
        shard,
        progress: bar.as_ref().map(progress::sweep_callback),
        launcher,
        device: cli.device.clone(),
        report: true,
        tensorboard: a.tensorboard,
        interrupt: interrupt_flag(),
        max_memory: cli.max_memory,
    };
    let outcome = gradscope_trainer::sweep::run_sweep(&sweep, &opts);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    if let Ok(md) = std::fs::read_to_string(out_dir.join("results.md")) {
        emitln(&md)?;
    }
    if let Ok(Some(pivot)) = gradscope_trainer::sweep::pivot(&out_dir) {
        emitln(&pivot)?;
    }
    emitln(&format!("results: {}", out_dir.display()))?;
    Ok(if outcome.interrupted {
        exit_code::INTERRUPTED
    } else if outcome.failed > 0 {
        tracing::error!("{} of the sweep's runs failed (see above)", outcome.failed);
        exit_code::RUNS_FAILED
    } else {
        exit_code::OK
    })
}

/// Starts a parallel sweep's runs as `gradscope run` in child processes of this executable,
/// quiet, without progress bars or report (the sweep draws one report for all its runs).
#[derive(Debug)]
struct SelfLauncher {
    exe: PathBuf,
}

impl Launcher for SelfLauncher {
    fn command(&self, run: &RunSpec<'_>) -> Process {
        let mut cmd = Process::new(&self.exe);
        cmd.arg("run")
            .arg(run.config)
            .arg("--out")
            .arg(run.out_dir)
            .args([
                "--threads",
                &run.threads.to_string(),
                "--no-progress",
                "--no-report",
                "-q",
            ]);
        if let Some(m) = run.max_memory {
            cmd.args(["--max-memory", &m.to_string()]);
        }
        if let Some(d) = run.device {
            cmd.args(["--device", d]);
        }
        if run.tensorboard {
            cmd.arg("--tensorboard");
        }
        cmd
    }
}

fn cmd_merge(a: &MergeArgs) -> Result<i32> {
    let n = gradscope_trainer::sweep::merge(&a.dirs, &a.out)?;
    emitln(&format!("merged {n} runs into {}", a.out.display()))?;
    Ok(exit_code::OK)
}

fn cmd_report(a: &ReportArgs) -> Result<i32> {
    if a.tensorboard {
        for run in gradscope_report::find_runs(&a.dir)? {
            gradscope_report::write_tensorboard(&run.dir, &run.records)?;
        }
    }
    let html = gradscope_trainer::sweep::write_report(&a.dir)?;
    emitln(&format!("report: {}", html.display()))?;
    Ok(exit_code::OK)
}

fn cmd_bench(cli: &Cli, a: &BenchArgs) -> Result<i32> {
    use gradscope_trainer::bench::{Cell, Skip, default_grid, default_steps, run_cell};
    set_threads(cli.threads.unwrap_or(0));
    let skip: Vec<Part> = a.skip.iter().map(|&p| p.into()).collect();
    let backend = backend(cli)?.unwrap_or_default();
    let cells: Vec<Cell> = match (a.depth, a.width) {
        (None, None) => default_grid()
            .into_iter()
            .filter(|c| a.mode.is_none_or(|m| BenchMode::from(m) == c.mode))
            .map(|c| Cell {
                batch: a.batch,
                skip: Skip::of(&skip),
                tap: a.tap.into(),
                ..c
            })
            .collect(),
        (Some(depth), Some(width)) if depth >= 1 && width >= 1 && a.batch >= 1 => {
            let modes = a.mode.map_or(
                vec![BenchMode::Plain, BenchMode::Gradnorms, BenchMode::Full],
                |m| vec![m.into()],
            );
            modes
                .into_iter()
                .map(|mode| Cell {
                    depth,
                    width,
                    batch: a.batch,
                    mode,
                    skip: Skip::of(&skip),
                    tap: a.tap.into(),
                })
                .collect()
        }
        _ => {
            return Err(Error::Usage(
                "--depth and --width go together, each at least 1".into(),
            ));
        }
    };
    for cell in &cells {
        gradscope_trainer::memory::check(
            &format!("bench cell depth {} × width {}", cell.depth, cell.width),
            &gradscope_trainer::bench::workload(cell),
            cli.max_memory,
        )?;
    }
    if !a.json {
        emitln(&format!(
            "{:>5} {:>6} {:>5} {:>9} {:>8} {:>11} {:>9} {:>9} {:>9}",
            "depth", "width", "batch", "mode", "device", "ms/step", "steps/s", "GFLOP/s", "RSS MiB"
        ))?;
    }
    for cell in cells {
        let steps = a.steps.unwrap_or_else(|| default_steps(&cell));
        let r = run_cell(cell, backend, steps, a.warmup);
        if a.json {
            emitln(&serde_json::to_string(&r).unwrap_or_default())?;
        } else {
            // Timings to 3 significant figures: their run-to-run noise is larger than that.
            let sig = |x: f64| gradscope_record::format_sig(x, 3);
            emitln(&format!(
                "{:>5} {:>6} {:>5} {:>9} {:>8} {:>11} {:>9} {:>9} {:>9}",
                r.depth,
                r.width,
                r.batch,
                format!("{:?}", r.mode).to_lowercase(),
                r.device,
                sig(r.ms_per_step_median),
                sig(r.steps_per_s),
                sig(r.gflops_at_median),
                sig(r.peak_rss_mib)
            ))?;
        }
    }
    Ok(exit_code::OK)
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    init_logging(&cli);
    let result = check_threads(&cli).and_then(|()| match &cli.command {
        Command::Chain(a) => cmd_chain(&cli, a),
        Command::Inspect(a) => cmd_inspect(&cli, a),
        Command::Run(a) => cmd_run(&cli, a),
        Command::Config(a) => cmd_config(&cli, a),
        Command::Sweep(a) => cmd_sweep(&cli, a),
        Command::Merge(a) => cmd_merge(a),
        Command::Report(a) => cmd_report(a),
        Command::Bench(a) => cmd_bench(&cli, a),
    });
    match result {
        Ok(code) => code,
        Err(Error::BrokenPipe) => exit_code::OK,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            e.exit_code()
        }
    }
}

//! Tests of the whole report on synthetic runs.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fs;
use std::path::Path;

use common::*;

use crate::{ReportError, RunData, find_runs, load_run, plot_names, write_report};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn plot_names_follow_the_runs() {
    let names = plot_names(&all_runs());
    assert_eq!(
        names,
        vec![
            "grad_vs_layer",
            "weight_product",
            "heatmap_plain_deep_sigmoid",
            "loss_plain_deep_sigmoid",
            "activations_plain_deep_sigmoid",
            "heatmap_exploding_relu",
            "loss_exploding_relu",
            "activations_exploding_relu",
            "heatmap_tiny_one_layer",
            "loss_tiny_one_layer",
            "activations_tiny_one_layer",
            "heatmap_interrupted",
            "loss_interrupted",
            "activations_interrupted",
        ]
    );
}

#[test]
fn report_writes_every_plot_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let runs = all_runs();
    let files = write_report(dir.path(), &runs).unwrap();
    let names = plot_names(&runs);
    assert_eq!(files.html, dir.path().join("report.html"));
    assert_eq!(files.plots.len(), 2 * names.len());
    for name in &names {
        let svg_path = dir.path().join("plots").join(format!("{name}.svg"));
        let png_path = dir.path().join("plots").join(format!("{name}.png"));
        assert!(files.plots.contains(&svg_path), "{name}");
        assert!(files.plots.contains(&png_path), "{name}");
        let svg = String::from_utf8(read(&svg_path)).unwrap();
        assert!(
            svg.starts_with("<svg "),
            "{name}: {}",
            &svg[..svg.len().min(80)]
        );
        assert!(svg.trim_end().ends_with("</svg>"), "{name}");
        assert_eq!(svg.matches("<svg").count(), 1, "{name}");
        // Text is drawn (axis titles at least), and never as raw markup from run names.
        assert!(svg.contains("<text"), "{name}");
        assert!(!svg.contains("<deep>"), "{name}: unescaped run name");
        let png = read(&png_path);
        assert!(png.starts_with(PNG_SIGNATURE), "{name}");
        assert!(png.len() > 2000, "{name}: {} bytes", png.len());
    }
    // No temporary files are left behind.
    for entry in fs::read_dir(dir.path().join("plots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left over: {name}");
    }
}

/// A report written again into the same folder, for runs with other names, leaves only its own
/// plots (and any non-plot file) behind.
#[test]
fn a_new_report_removes_the_plots_of_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = all_runs();
    write_report(dir.path(), &runs).unwrap();
    fs::write(dir.path().join("plots/notes.txt"), "mine").unwrap();
    for (i, run) in runs.iter_mut().enumerate() {
        run.label = Some(format!("renamed {i}"));
    }
    let files = write_report(dir.path(), &runs).unwrap();
    let mut left: Vec<_> = fs::read_dir(dir.path().join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("notes.txt"))
        .collect();
    left.sort();
    let mut written = files.plots.clone();
    written.sort();
    assert_eq!(left, written);
    assert!(dir.path().join("plots/notes.txt").exists());
}

#[test]
fn html_is_self_contained_and_names_everything() {
    let dir = tempfile::tempdir().unwrap();
    let runs = all_runs();
    let files = write_report(dir.path(), &runs).unwrap();
    let html = String::from_utf8(read(&files.html)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for run in &runs {
        let escaped = crate::html::escape(&run.summary.name);
        assert!(html.contains(&escaped), "{escaped}");
    }
    assert!(html.contains("plain &lt;deep&gt; &amp; &quot;sigmoid&quot;"));
    assert!(!html.contains("<deep>"));
    assert!(
        html.contains("# &lt;b&gt;not bold&lt;/b&gt;"),
        "config is escaped"
    );
    let names = plot_names(&runs);
    for name in &names {
        assert!(html.contains(&format!("id=\"plot-{name}\"")), "{name}");
        assert!(html.contains(&format!("data-plot=\"{name}\"")), "{name}");
    }
    assert_eq!(html.matches("data-plot=\"").count(), names.len());
    assert_eq!(html.matches("<svg").count(), names.len());
    assert_eq!(html.matches("</svg>").count(), names.len());
    assert!(!html.contains("http://"), "a URL in the report");
    assert!(!html.contains("https://"), "a URL in the report");
    for tag in ["<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!html.contains(tag), "external resource: {tag}");
    }
    // Every run's verdict, diagnosis and remedies are there.
    assert!(html.contains("b-indistinguishable"));
    assert!(
        html.contains("b-vanishing") && html.contains("b-exploding") && html.contains("b-healthy")
    );
    assert!(html.contains("<strong>residual connections (model.residual = true)</strong>"));
    assert!(html.contains("step 6, blocks.2 (layer 3, backward_signal)"));
    assert!(
        html.contains("1.2e-29"),
        "first-to-last ratio in the overview"
    );
    assert!(html.contains("91.2 %"), "final test accuracy");
}

#[test]
fn output_is_byte_identical_when_written_twice() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let runs = all_runs();
    let first = write_report(a.path(), &runs).unwrap();
    let snapshot: Vec<Vec<u8>> = first.plots.iter().map(|p| read(p)).collect();
    let html = read(&first.html);
    // Again into the same folder (overwriting), and into another.
    let again = write_report(a.path(), &runs).unwrap();
    assert_eq!(again, first);
    let other = write_report(b.path(), &runs).unwrap();
    for (i, p) in first.plots.iter().enumerate() {
        assert_eq!(
            read(p),
            snapshot[i],
            "{} changed when rewritten",
            p.display()
        );
        assert_eq!(
            read(&other.plots[i]),
            snapshot[i],
            "{} differs between folders",
            p.display()
        );
    }
    assert_eq!(read(&first.html), html);
    assert_eq!(read(&other.html), html);
}

#[test]
fn non_finite_values_are_marked_not_plotted() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![exploding_run()];
    write_report(dir.path(), &runs).unwrap();
    let plots = dir.path().join("plots");
    let svg = |name: &str| String::from_utf8(read(&plots.join(format!("{name}.svg")))).unwrap();
    for name in [
        "grad_vs_layer",
        "weight_product",
        "heatmap_exploding_relu",
        "loss_exploding_relu",
        "activations_exploding_relu",
    ] {
        let s = svg(name);
        assert!(
            s.contains("first non-finite"),
            "{name}: no non-finite annotation"
        );
        assert!(s.contains("#D62728"), "{name}: no red marker");
        for bad in ["NaN", "inf\""] {
            assert!(
                !s.contains(&format!("=\"{bad}")),
                "{name}: a non-finite coordinate"
            );
        }
    }
    // The heatmap's colour bar covers the finite values only: its ticks are decades within
    // the data (1.6^7·10^5 ≈ 2.7e6 at most), none at an absurd 1e300.
    let heat = svg("heatmap_exploding_relu");
    assert!(
        heat.contains(">\n1e6\n<") || heat.contains(">\n1e5\n<"),
        "colour bar ticks"
    );
    assert!(!heat.contains("e300"));
}

#[test]
fn tiny_and_empty_runs_still_render() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![tiny_run(), empty_run()];
    let files = write_report(dir.path(), &runs).unwrap();
    assert_eq!(files.plots.len(), 2 * 8);
    let loss = String::from_utf8(read(&dir.path().join("plots/loss_tiny_one_layer.svg"))).unwrap();
    assert!(loss.contains("no baseline recorded"));
    let heat = String::from_utf8(read(&dir.path().join("plots/heatmap_interrupted.svg"))).unwrap();
    assert!(heat.contains("no ‖∂L/∂h‖ recorded"));
}

#[test]
fn an_empty_report_renders() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(&dir.path().join("new/nested"), &[]).unwrap();
    assert!(files.plots.is_empty(), "{:?}", files.plots);
    let html = String::from_utf8(read(&files.html)).unwrap();
    assert!(html.contains("No runs."));
}

#[test]
fn runs_load_from_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v = write_run_dir(&root.join("b/plain"), &vanishing_run());
    let t = write_run_dir(&root.join("a"), &tiny_run());
    let e = write_run_dir(&root.join("c/x/exploding"), &exploding_run()); // 3 levels: not found
    write_run_dir(&root.join(".hidden"), &tiny_run());

    let loaded = load_run(&v.dir).unwrap();
    assert_eq!(loaded, v);
    let found = find_runs(root).unwrap();
    let dirs: Vec<_> = found.iter().map(|r| r.dir.clone()).collect();
    assert_eq!(dirs, vec![t.dir.clone(), v.dir.clone()]);
    assert_eq!(found[0], t);

    // A run folder itself.
    let one = find_runs(&e.dir).unwrap();
    assert_eq!(one.len(), 1);
    assert!(
        one[0].records[12].loss.get().is_nan(),
        "NaN survives the round trip"
    );
    assert_eq!(find_runs(&root.join("c")).unwrap().len(), 1);

    // Errors name the file.
    let err = find_runs(&root.join("nothing-here")).unwrap_err();
    assert!(err.to_string().contains("nothing-here"), "{err}");
    fs::create_dir_all(root.join("empty/sub")).unwrap();
    let err = find_runs(&root.join("empty")).unwrap_err();
    assert!(matches!(err, ReportError::NoRuns { .. }), "{err}");
    fs::remove_file(t.dir.join("metrics.jsonl")).unwrap();
    let err = load_run(&t.dir).unwrap_err();
    assert!(err.to_string().contains("metrics.jsonl"), "{err}");
    fs::write(v.dir.join("summary.json"), "{\"schema_version\": 1,").unwrap();
    let err = load_run(&v.dir).unwrap_err();
    assert!(err.to_string().contains("summary.json"), "{err}");
    fs::write(e.dir.join("metrics.jsonl"), "not json\n").unwrap();
    let err = load_run(&e.dir).unwrap_err();
    assert!(err.to_string().contains("metrics.jsonl:1"), "{err}");
    // Without config.toml the run still loads.
    fs::remove_file(e.dir.join("config.toml")).unwrap();
    fs::write(e.dir.join("metrics.jsonl"), "").unwrap();
    assert_eq!(load_run(&e.dir).unwrap().config_toml, "");
}

#[test]
fn write_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    fs::write(&blocker, "x").unwrap();
    let err = write_report(&blocker, &[tiny_run()]).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn long_deep_runs_stay_small() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![long_run(2000, 200)];
    let files = write_report(dir.path(), &runs).unwrap();
    let html = read(&files.html);
    assert!(
        html.len() < 3_000_000,
        "report.html is {} bytes",
        html.len()
    );
    let heat = String::from_utf8(read(&dir.path().join("plots/heatmap_long_deep.svg"))).unwrap();
    let cells = heat.matches("<rect").count();
    // At most 160 columns × 96 rows of cells, plus the colour bar and background.
    assert!(cells <= 160 * 96 + 200, "{cells} rectangles");
    assert!(cells >= 100 * 50, "{cells} rectangles: binned too coarsely");
}

#[test]
fn extreme_values_do_not_break_plots() {
    let mut run = vanishing_run();
    run.summary.name = "extreme".into();
    for (i, r) in run.records.iter_mut().enumerate() {
        r.loss = gradscope_record::Real(match i % 4 {
            0 => 1.7e308,
            1 => -1.7e308,
            2 => 5e-324,
            _ => f64::NEG_INFINITY,
        });
        let g = &mut r.layers.act_grad_norm;
        g[0] = Some(gradscope_record::Real(5e-324));
        g[1] = Some(gradscope_record::Real(1.7e308));
        g[2] = Some(gradscope_record::Real(-3.0));
        r.layers.act_std[0] = Some(gradscope_record::Real(-1.0));
        r.layers.act_dead[1] = Some(gradscope_record::Real(7.0));
        r.layers.spectral_norm[0] = Some(gradscope_record::Real(1e300));
        r.layers.spectral_norm[1] = Some(gradscope_record::Real(1e300));
    }
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &[run]).unwrap();
    for p in &files.plots {
        let bytes = read(p);
        assert!(!bytes.is_empty(), "{}", p.display());
        if p.extension().is_some_and(|e| e == "svg") {
            let s = String::from_utf8(bytes).unwrap();
            // No coordinate or size is NaN or infinite.
            for bad in ["=\"NaN", "=\"inf", "=\"-inf", " NaN", ",NaN", "inf,"] {
                assert!(!s.contains(bad), "{}: {bad}", p.display());
            }
        }
    }
}

/// In a comparison, one architecture has one colour at every depth and one legend entry, and no
/// two architectures share a colour; without families every run has its own colour.
#[test]
fn families_share_a_colour_and_a_legend_entry() {
    let mut runs = vec![vanishing_run(), exploding_run(), tiny_run(), empty_run()];
    for (run, family) in runs
        .iter_mut()
        .zip(["plain", "residual", "plain", "batch norm"])
    {
        run.family = Some(family.to_string());
    }
    let plots = crate::plots::RunPlot::all(&runs);
    assert_eq!(plots[0].color, plots[2].color);
    assert_ne!(plots[0].color, plots[1].color);
    assert_ne!(plots[1].color, plots[3].color);
    assert_ne!(plots[0].color, plots[3].color);
    let labels: Vec<Option<String>> = plots.iter().map(|p| p.legend_label(&plots)).collect();
    assert_eq!(
        labels,
        [
            Some("plain".to_string()),
            Some("residual".to_string()),
            None,
            Some("batch norm".to_string())
        ]
    );
    let plain = crate::plots::RunPlot::all(&runs[..2]);
    let unfamilied: Vec<RunData> = all_runs();
    let each = crate::plots::RunPlot::all(&unfamilied);
    assert_ne!(each[0].color, each[2].color);
    assert_eq!(plain[0].legend_label(&plain).as_deref(), Some("plain"));
}

/// A sweep's report (more than three runs) keeps each run's facts and plots in a closed
/// `<details>` under its heading, verdict and diagnosis; a report of a few runs shows them open.
#[test]
fn many_runs_collapse_into_details() {
    let dir = tempfile::tempdir().unwrap();
    let runs = all_runs();
    assert!(runs.len() > 3);
    let html = String::from_utf8(read(&write_report(dir.path(), &runs).unwrap().html)).unwrap();
    assert_eq!(
        html.matches("<details class=\"run-body\">").count(),
        runs.len()
    );
    // The verdict stays visible: it comes before the collapsed part of its section.
    let section = &html[html.find("id=\"run-plain_deep_sigmoid\"").unwrap()..];
    let verdict = section.find("Verdict: indistinguishable").unwrap();
    assert!(verdict < section.find("<details class=\"run-body\">").unwrap());
    let few = tempfile::tempdir().unwrap();
    let html =
        String::from_utf8(read(&write_report(few.path(), &runs[..2]).unwrap().html)).unwrap();
    assert!(!html.contains("<details class=\"run-body\">"));
}

/// A sweep over depth as its report sees it: `plain` and `residual` at depths 4 and 16, three
/// seeds each (two for residual at 16), with the accuracies, first-to-last ratios and the
/// comparison with the constant prediction (10 %) given; plain's ratio underflows to 0 once.
fn depth_sweep_runs() -> Vec<RunData> {
    type Spec = (&'static str, usize, &'static [f64], &'static [f64], bool);
    let specs: [Spec; 4] = [
        ("plain", 4, &[0.5, 0.6, 0.7], &[1e-3, 1e-4, 1e-5], true),
        ("plain", 16, &[0.1, 0.1, 0.12], &[1e-12, 1e-14, 0.0], false),
        ("residual", 4, &[0.9, 0.92, 0.94], &[0.5, 0.6, 0.7], true),
        ("residual", 16, &[0.91, 0.93], &[0.4, 0.8], true),
    ];
    let mut runs = Vec::new();
    for (family, depth, accuracies, ratios, beats) in specs {
        for (seed, (a, r)) in accuracies.iter().zip(ratios.iter()).enumerate() {
            let mut run = vanishing_run();
            let s = &mut run.summary;
            s.name = format!("{family}-depth-{depth}_seed-{seed}");
            s.depth = depth;
            s.seeds.init = seed as u64;
            s.finals.real.test_accuracy = Some(gradscope_record::Real(*a));
            s.diagnosis.evidence.first_to_last_ratio = Some(gradscope_record::Real(*r));
            let vc = s
                .learning_signal
                .as_mut()
                .and_then(|l| l.versus_chance.as_mut())
                .unwrap();
            vc.beats_chance = beats;
            vc.model = gradscope_record::Real(*a);
            run.dir = format!("runs/{}", s.name).into();
            run.family = Some(family.to_string());
            runs.push(run);
        }
    }
    runs
}

/// Mean and sample sd, computed here independently of the plot's code.
fn mean_and_sd(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.len() > 1)
        .then(|| (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt());
    (m, sd)
}

/// The depth figure's points are the summaries' numbers pooled over repeats: per architecture
/// and depth, the mean and sample sd of the test accuracy (%), and of log10 of the first-to-last
/// ratio (0 counted apart as an underflow), with the number of runs.
#[test]
fn depth_series_pool_the_summaries_over_seeds() {
    let runs = depth_sweep_runs();
    let series = crate::depth_series(&runs);
    let families: Vec<&str> = series.iter().map(|s| s.family.as_str()).collect();
    assert_eq!(families, ["plain", "residual"]);
    for s in &series {
        let depths: Vec<usize> = s.accuracy.iter().map(|p| p.depth).collect();
        assert_eq!(depths, [4, 16], "{}", s.family);
        for p in &s.accuracy {
            let accuracies: Vec<f64> = runs
                .iter()
                .filter(|r| r.family.as_deref() == Some(&s.family) && r.summary.depth == p.depth)
                .map(|r| 100.0 * r.summary.finals.real.test_accuracy.unwrap().get())
                .collect();
            let (m, sd) = mean_and_sd(&accuracies);
            assert_eq!(p.n, accuracies.len());
            assert!((p.mean - m).abs() < 1e-9, "{} {}: {p:?}", s.family, p.depth);
            assert!(
                (p.sd.unwrap() - sd.unwrap()).abs() < 1e-9,
                "{} {}",
                s.family,
                p.depth
            );
        }
        for p in &s.log10_ratio {
            let logs: Vec<f64> = runs
                .iter()
                .filter(|r| r.family.as_deref() == Some(&s.family) && r.summary.depth == p.depth)
                .map(|r| {
                    r.summary
                        .diagnosis
                        .evidence
                        .first_to_last_ratio
                        .unwrap()
                        .get()
                })
                .filter(|r| *r > 0.0)
                .map(f64::log10)
                .collect();
            let (m, sd) = mean_and_sd(&logs);
            assert_eq!(p.n, logs.len());
            assert!((p.mean - m).abs() < 1e-9, "{} {}: {p:?}", s.family, p.depth);
            assert!((p.sd.unwrap() - sd.unwrap()).abs() < 1e-9);
        }
    }
    // The numbers themselves, for a reader.
    let plain = &series[0];
    assert!((plain.accuracy[0].mean - 60.0).abs() < 1e-9);
    assert!((plain.accuracy[0].sd.unwrap() - 10.0).abs() < 1e-9);
    assert!((plain.log10_ratio[0].mean + 4.0).abs() < 1e-9);
    assert!((plain.log10_ratio[0].sd.unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(plain.log10_ratio[1].n, 2, "the 0 is left out of the mean");
    assert_eq!(plain.ratio_underflow, [(16, 1)]);
    assert_eq!(plain.beats_constant, [(4, 3, 3), (16, 0, 3)]);
    assert_eq!(series[1].accuracy[1].n, 2);
    assert_eq!(crate::constant_accuracy(&runs), [10.0]);
    // One run per point: no sd.
    let one = crate::depth_series(&runs[..1]);
    assert_eq!(one[0].accuracy[0].n, 1);
    assert_eq!(one[0].accuracy[0].sd, None);
}

/// A sweep's report opens with the depth figure: first among the plots, first in the page, with a
/// caption naming the architectures that stay above the constant prediction; the depth table
/// beside it counts the verdicts. Reports without an architecture at two depths have none.
#[test]
fn the_depth_figure_comes_first_in_a_sweep_report() {
    let runs = depth_sweep_runs();
    let names = plot_names(&runs);
    assert_eq!(names[0], "depth");
    assert_eq!(names.iter().filter(|n| *n == "depth").count(), 1);
    // One observed layer: a by-layer plot would be one point.
    let mut one = tiny_run();
    one.summary.depth = 1;
    let single = plot_names(&[one]);
    assert!(
        !single
            .iter()
            .any(|n| n == "grad_vs_layer" || n == "weight_product"),
        "{single:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &runs).unwrap();
    let html = String::from_utf8(read(&files.html)).unwrap();
    let depth_at = html.find("data-plot=\"depth\"").expect("the depth figure");
    let first_figure = html.find("<figure").unwrap();
    assert!(
        html[first_figure..].starts_with("<figure class=\"plot\" id=\"plot-depth\""),
        "the first figure is not the depth figure"
    );
    for name in &names[1..] {
        let at = html.find(&format!("data-plot=\"{name}\"")).unwrap();
        assert!(depth_at < at, "{name} comes before the depth figure");
    }
    assert!(depth_at < html.find("id=\"overview\"").unwrap());
    assert!(html.contains(
        "here residual stays above it at every depth (beating it by more than three standard \
         errors on the test split, as the verdicts require), while plain (depth 16) does not."
    ));
    assert!(html.contains("3/3 indistinguishable"), "verdicts counted");
    assert!(html.contains("60.0 ± 10.0 % (n = 3)"), "accuracy pooled");
    let svg = String::from_utf8(read(&dir.path().join("plots/depth.svg"))).unwrap();
    for text in [
        "constant prediction 10.0 %",
        "plain",
        "residual",
        "n=2",
        "each point: 3 runs",
    ] {
        assert!(svg.contains(text), "{text} missing from the depth figure");
    }
    // No depth figure: one depth, or runs without families at several depths.
    let same_depth: Vec<RunData> = runs
        .iter()
        .filter(|r| r.summary.depth == 4)
        .cloned()
        .collect();
    assert!(!plot_names(&same_depth).contains(&"depth".to_string()));
    let unfamilied: Vec<RunData> = runs
        .iter()
        .cloned()
        .map(|mut r| {
            r.family = None;
            r
        })
        .collect();
    assert!(!plot_names(&unfamilied).contains(&"depth".to_string()));
}

/// A run with layers observed through time gets the through-time plot, before the by-layer
/// plots (its story is told through time); it draws each layer's series at initialisation and
/// at the last record (the points are log10 ‖∂L/∂h_t‖ at t = 1…30), and a run without time
/// steps does not get it.
#[test]
fn recurrent_layers_get_the_through_time_plot() {
    let runs = vec![recurrent_run()];
    let names = plot_names(&runs);
    assert_eq!(
        &names[..3],
        ["grad_vs_time", "grad_vs_layer", "weight_product"]
    );
    assert!(!plot_names(&[tiny_run()]).contains(&"grad_vs_time".to_string()));

    let plots = crate::plots::RunPlot::all(&runs);
    let lines = crate::plots::grad_vs_time::lines(&plots[0]);
    assert_eq!(lines.len(), 2);
    for (l, rho) in lines.iter().zip([0.8f64, 0.9]) {
        assert_eq!(l.init.0, 0);
        let (last_step, last) = l.last.as_ref().unwrap();
        assert_eq!(*last_step, 9);
        for (s, (a, b)) in l.init.1.iter().zip(last).enumerate() {
            let k = (29 - s) as i32;
            assert!((a.unwrap() - rho.powi(k)).abs() < 1e-12);
            assert!((b.unwrap() - (rho * rho).powi(k)).abs() < 1e-12);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), &runs).unwrap();
    let svg = String::from_utf8(read(&dir.path().join("plots/grad_vs_time.svg"))).unwrap();
    assert!(svg.contains("Backward signal through time"), "title");
    assert!(svg.contains("rnn · layer 2: step 9 (last)"), "legend");
    let html = String::from_utf8(read(&dir.path().join("report.html"))).unwrap();
    assert!(html.contains("id=\"plot-grad_vs_time\""));
    // The state matrices' norms, first record to last, per layer.
    assert!(
        html.contains("layer 1: 1 → 1.5 and 0.9 → 1.25; layer 2: 1 → 1.5 and 0.9 → 1.25<"),
        "{}",
        html.split("init → last")
            .nth(1)
            .unwrap_or("no W_hh in the report")
    );
    assert!(!html_of(&[tiny_run()]).contains("W_hh"));
}

/// A recurrent run gets the time × training-step heatmap of its first layer: one row per time
/// step (log10 ‖∂L/∂h_t‖ of layer 1 at every record), and the by-layer heatmap only where it has
/// more than one recurrent layer (one layer would make a one-row heatmap).
#[test]
fn recurrent_runs_get_the_time_heatmap() {
    let runs = vec![recurrent_run()];
    let names = plot_names(&runs);
    assert!(names.contains(&"heatmap_time_rnn".to_string()), "{names:?}");
    assert!(
        names.contains(&"heatmap_rnn".to_string()),
        "two layers: {names:?}"
    );
    let plots = crate::plots::RunPlot::all(&runs);
    let (grid, steps) =
        crate::plots::heatmap::grid(&plots[0], crate::plots::heatmap::Rows::TimeSteps);
    assert_eq!(steps, (0..10).map(f64::from).collect::<Vec<_>>());
    assert_eq!(grid.len(), 10);
    for (col, rho) in grid
        .iter()
        .zip(std::iter::repeat_n(0.8f64, 9).chain([0.64]))
    {
        assert_eq!(col.len(), 30);
        for (t, v) in col.iter().enumerate() {
            assert!((v.unwrap() - rho.powi(29 - t as i32)).abs() < 1e-12);
        }
    }
    let mut one = recurrent_run();
    one.summary.depth = 1;
    for r in &mut one.records {
        r.layers.act_grad_norm_time.truncate(1);
    }
    let names = plot_names(&[one]);
    assert!(names.contains(&"heatmap_time_rnn".to_string()), "{names:?}");
    assert!(!names.contains(&"heatmap_rnn".to_string()), "{names:?}");
    assert!(
        !plot_names(&[tiny_run()])
            .iter()
            .any(|n| n.starts_with("heatmap_time"))
    );
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), &runs).unwrap();
    let svg = String::from_utf8(read(&dir.path().join("plots/heatmap_time_rnn.svg"))).unwrap();
    assert!(svg.contains("by time step and training step"), "title");
}

/// Recurrent runs compared over the sequence length (a sweep over `data.length`) get the
/// scale figure against T: one point per cell and length, the left panel the regression's test
/// MSE (log10, beside the constant prediction's), the right the ratio through time; the caption
/// says which cells stay below the constant prediction at every length.
#[test]
fn the_scale_figure_follows_the_sequence_length_for_recurrent_sweeps() {
    let mut runs = Vec::new();
    for (cell, mses, ratios, beats) in [
        (
            "tanh",
            [0.01, 0.15, 0.17],
            [1e-2, 1e-8, 1e-15],
            [true, false, false],
        ),
        (
            "lstm",
            [0.001, 0.002, 0.004],
            [0.5, 0.2, 0.1],
            [true, true, true],
        ),
    ] {
        for (i, t) in [10usize, 50, 100].into_iter().enumerate() {
            let mut run = vanishing_run();
            let s = &mut run.summary;
            s.name = format!("{cell}-T{t}");
            s.depth = 1;
            s.time_steps = Some(t);
            s.finals.real.test_accuracy = None;
            s.diagnosis.evidence.first_to_last_ratio = Some(gradscope_record::Real(ratios[i]));
            let vc = s
                .learning_signal
                .as_mut()
                .and_then(|l| l.versus_chance.as_mut())
                .unwrap();
            vc.metric = "mse".into();
            vc.model = gradscope_record::Real(mses[i]);
            vc.chance = gradscope_record::Real(1.0 / 6.0);
            vc.beats_chance = beats[i];
            run.dir = format!("runs/{}", s.name).into();
            run.family = Some(cell.to_string());
            runs.push(run);
        }
    }
    assert_eq!(
        crate::plots::depth::Scale::of_runs(runs.iter()),
        Some(crate::plots::depth::Scale::TimeSteps)
    );
    let series = crate::depth_series(&runs);
    assert_eq!(series.len(), 2);
    for s in &series {
        let ts: Vec<usize> = s.log10_mse.iter().map(|p| p.depth).collect();
        assert_eq!(ts, [10, 50, 100], "{}", s.family);
        assert!(s.accuracy.is_empty());
    }
    assert!((series[0].log10_mse[2].mean - 0.17f64.log10()).abs() < 1e-12);
    assert!((series[1].log10_ratio[0].mean - 0.5f64.log10()).abs() < 1e-12);
    assert_eq!(
        series[0].beats_constant,
        [(10, 1, 1), (50, 0, 1), (100, 0, 1)]
    );
    let names = plot_names(&runs);
    assert_eq!(names[0], "depth");
    let plots = crate::plots::RunPlot::all(&runs);
    let caption = crate::plots::depth::caption(&plots);
    assert!(caption.contains("sequence length"), "{caption}");
    assert!(
        caption.contains("lstm stays below it at every length")
            && caption.contains("tanh (lengths 50, 100) does not"),
        "{caption}"
    );
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), &runs).unwrap();
    let svg = String::from_utf8(read(&dir.path().join("plots/depth.svg"))).unwrap();
    assert!(svg.contains("Final test MSE by length"), "left panel");
    assert!(
        svg.contains("Gradient ratio through time: init and trained"),
        "right panel"
    );
    // Runs over depth keep the depth figure.
    assert_eq!(
        crate::plots::depth::Scale::of_runs(depth_sweep_runs().iter()),
        Some(crate::plots::depth::Scale::Depth)
    );
}

/// The report.html of `runs`, as text.
fn html_of(runs: &[RunData]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), runs).unwrap();
    String::from_utf8(read(&files.html)).unwrap()
}

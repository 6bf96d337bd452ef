//! The config settings that make a remedy: the diagnostics say what to change
//! ([`gradscope_record::Change`]); this says which keys of a config file change it.

use gradscope_record::{Change, Diagnosis, Remedy, Setting, format_short};

/// A float as TOML writes it (`1.0`, `0.02`, `1e-5`): an integer-looking value would be read
/// back as an integer.
fn toml_float(v: f64) -> String {
    let s = format_short(v);
    if s.contains(['.', 'e', 'E']) || !v.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// The keys and values that make `change` in a gradscope config (empty where no key does,
/// such as "fewer layers", or where the change does not name a value).
pub fn settings_for(change: &Change) -> Vec<Setting> {
    match change {
        Change::LowerLearningRate { to, .. } => vec![Setting::new("optim.lr", toml_float(*to))],
        Change::ClipGlobalNorm { max_norm } => {
            vec![Setting::new("optim.clip_norm", toml_float(*max_norm))]
        }
        Change::Init { init: Some(init) } => vec![
            Setting::words("model.init", std::slice::from_ref(init)),
            Setting::new("model.sigma_w", "1.0"),
        ],
        Change::Residual { branch_scale } => {
            let mut out = vec![Setting::new("model.residual", "true")];
            if let Some(a) = branch_scale {
                out.push(Setting::new("model.branch_scale", toml_float(*a)));
            }
            out
        }
        Change::Normalise { norms } if !norms.is_empty() => {
            vec![Setting::words("model.norm", norms)]
        }
        Change::Activation { activations } if !activations.is_empty() => {
            vec![Setting::words("model.activation", activations)]
        }
        Change::GatedCell { cells } if !cells.is_empty() => {
            vec![Setting::words("model.cell", cells)]
        }
        Change::RecurrentScale { init, rho } => vec![
            Setting::words("model.recurrent_init", std::slice::from_ref(init)),
            Setting::new("model.rho", toml_float(*rho)),
        ],
        _ => Vec::new(),
    }
}

/// The diagnosis of a model built from a config, each remedy with the settings that make it.
pub fn with_config_settings(mut diagnosis: Diagnosis) -> Diagnosis {
    diagnosis.remedies = diagnosis
        .remedies
        .into_iter()
        .map(|r: Remedy| {
            let settings = settings_for(&r.change);
            r.with_settings(settings)
        })
        .collect();
    diagnosis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_with_a_value_names_its_keys() {
        let lr = settings_for(&Change::LowerLearningRate { now: 0.2, to: 0.02 });
        assert_eq!(lr, vec![Setting::new("optim.lr", "0.02")]);
        let clip = settings_for(&Change::ClipGlobalNorm { max_norm: 1.0 });
        assert_eq!(clip, vec![Setting::new("optim.clip_norm", "1.0")]);
        let init = settings_for(&Change::Init {
            init: Some("he_normal".into()),
        });
        assert_eq!(init[0].values, vec!["\"he_normal\""]);
        assert_eq!(init[1], Setting::new("model.sigma_w", "1.0"));
        assert!(settings_for(&Change::Init { init: None }).is_empty());
        let res = settings_for(&Change::Residual {
            branch_scale: Some(0.1),
        });
        assert_eq!(
            res,
            vec![
                Setting::new("model.residual", "true"),
                Setting::new("model.branch_scale", "0.1")
            ]
        );
        let norm = settings_for(&Change::Normalise {
            norms: vec!["layer".into(), "batch".into()],
        });
        assert_eq!(norm[0].key, "model.norm");
        assert!(settings_for(&Change::Normalise { norms: vec![] }).is_empty());
        assert!(settings_for(&Change::FewerLayers).is_empty());
    }

    /// Every setting a remedy proposes is a key the config accepts, with a value it accepts:
    /// a remedy's settings applied together to the defaults with `--set` load (each of the
    /// alternatives in turn).
    #[test]
    fn proposed_settings_load() {
        let changes = [
            Change::LowerLearningRate { now: 0.2, to: 0.02 },
            Change::ClipGlobalNorm { max_norm: 1.0 },
            Change::Init {
                init: Some("he_normal".into()),
            },
            Change::Residual {
                branch_scale: Some(0.1),
            },
            Change::Normalise {
                norms: vec!["batch".into(), "layer".into()],
            },
            Change::Activation {
                activations: vec!["leaky_relu".into(), "gelu".into()],
            },
            Change::GatedCell {
                cells: vec!["lstm".into(), "gru".into()],
            },
            Change::RecurrentScale {
                init: "orthogonal".into(),
                rho: 1.0,
            },
        ];
        for change in changes {
            let recurrent = matches!(
                change,
                Change::GatedCell { .. } | Change::RecurrentScale { .. }
            );
            let settings = settings_for(&change);
            assert!(!settings.is_empty(), "{change:?}");
            let alternatives = settings.iter().map(|s| s.values.len()).max().unwrap();
            for pick in 0..alternatives {
                let args: Vec<String> = settings
                    .iter()
                    .map(|s| format!("{}={}", s.key, s.values[pick.min(s.values.len() - 1)]))
                    .collect();
                let kind = recurrent.then(|| "model.kind=rnn".to_string());
                let overrides: Vec<crate::Override> = kind
                    .iter()
                    .chain(&args)
                    .map(|a| crate::Override::parse(a).unwrap_or_else(|e| panic!("{a}: {e}")))
                    .collect();
                let exp = crate::parse_config(
                    crate::DEFAULTS_TOML,
                    "defaults.toml",
                    std::path::Path::new("."),
                    "defaults",
                    &overrides,
                );
                assert!(exp.is_ok(), "{args:?}: {}", exp.unwrap_err());
            }
        }
    }
}

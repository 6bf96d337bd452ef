//! Remedies as data: what to change, why, and (for a model built from a config) the config
//! settings that make the change.
//!
//! The diagnostics choose a [`Change`] and say why it fits; they know nothing of config files.
//! The layer that built the model from a config fills [`Remedy::settings`] with the keys and
//! values that make the change (`optim.lr = 0.02`), and [`Remedy::render`] writes the sentence
//! people read (`text`, kept in `summary.json` beside the data, as cargo keeps `rendered`
//! beside its structured diagnostics).

use serde::{Deserialize, Serialize};

/// One change to the model or the training that a diagnosis recommends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Lower the learning rate, from `now` to `to`.
    LowerLearningRate {
        /// The learning rate the run used.
        now: f64,
        /// The rate proposed (a tenth of `now`).
        to: f64,
    },
    /// Clip the gradient by its global norm.
    ClipGlobalNorm {
        /// The threshold proposed.
        max_norm: f64,
    },
    /// An initialisation matched to the activation, at gain 1.
    Init {
        /// The initialiser proposed (`model.init`'s word, e.g. `he_normal`); `None` where the
        /// activation is not known, so the remedy says in words which one fits which.
        init: Option<String>,
    },
    /// Skip connections around every block.
    Residual {
        /// A small initial branch scale, when the sum of many blocks could grow too large.
        branch_scale: Option<f64>,
    },
    /// Normalise every layer with one of these norms (`model.norm`'s words, best first).
    Normalise {
        /// The norms proposed.
        norms: Vec<String>,
    },
    /// Another activation (`model.activation`'s words, best first).
    Activation {
        /// The activations proposed.
        activations: Vec<String>,
    },
    /// The scalar chain: a weight |w| closer to 1.
    WeightTowardOne,
    /// A gated recurrent cell (`model.cell`'s words, best first).
    GatedCell {
        /// The cells proposed.
        cells: Vec<String>,
    },
    /// Recurrent matrices drawn orthogonal at scale ρ (every singular value ρ).
    RecurrentScale {
        /// The recurrent initialisation proposed (`model.recurrent_init`'s word).
        init: String,
        /// The scale proposed.
        rho: f64,
    },
    /// Fewer layers.
    FewerLayers,
    /// A remedy in words only (a summary written before remedies were data).
    Other,
}

/// One config setting a remedy makes: `key = value`, or one of several values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The config key (`optim.lr`).
    pub key: String,
    /// The value, as written in TOML (`0.02`, `"he_normal"`); several are alternatives.
    pub values: Vec<String>,
}

impl Setting {
    /// `key = value`.
    pub fn new(key: &str, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            values: vec![value.into()],
        }
    }

    /// `key = "word"` for each word, as alternatives.
    pub fn words(key: &str, words: &[String]) -> Self {
        Self {
            key: key.into(),
            values: words.iter().map(|w| format!("\"{w}\"")).collect(),
        }
    }
}

/// A remedy: the change, what it is called, why it fits this run, and how to make it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RemedyRepr")]
pub struct Remedy {
    /// The change, as data.
    #[serde(flatten)]
    pub change: Change,
    /// The change in a few words (`lower the learning rate`).
    pub name: String,
    /// Why it fits this run.
    pub why: String,
    /// The config settings that make the change; empty where the model was not built from a
    /// config (a network of the user's own).
    #[serde(default)]
    pub settings: Vec<Setting>,
    /// The sentence people read: [`Remedy::render`] of the fields above.
    pub text: String,
}

impl Remedy {
    /// A remedy without settings (the config layer adds them with [`Remedy::with_settings`]).
    pub fn new(change: Change, name: impl Into<String>, why: impl Into<String>) -> Self {
        let mut r = Self {
            change,
            name: name.into(),
            why: why.into(),
            settings: Vec::new(),
            text: String::new(),
        };
        r.text = r.render();
        r
    }

    /// The same remedy with these settings (and its text written again).
    pub fn with_settings(mut self, settings: Vec<Setting>) -> Self {
        self.settings = settings;
        self.text = self.render();
        self
    }

    /// `name (key = value, …, now x): why`.
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = self
            .settings
            .iter()
            .map(|s| format!("{} = {}", s.key, s.values.join(" or ")))
            .collect();
        if let Change::LowerLearningRate { now, .. } = self.change {
            parts.push(format!("now {now}"));
        }
        let mut out = self.name.clone();
        if !parts.is_empty() {
            out.push_str(&format!(" ({})", parts.join(", ")));
        }
        if !self.why.is_empty() {
            out.push_str(": ");
            out.push_str(&self.why);
        }
        out
    }
}

impl std::fmt::Display for Remedy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What `summary.json` may hold for a remedy: the object, or the plain sentence that summaries
/// of schema 3 and earlier wrote.
#[derive(Deserialize)]
#[serde(untagged)]
enum RemedyRepr {
    Full {
        #[serde(flatten)]
        change: Change,
        name: String,
        why: String,
        #[serde(default)]
        settings: Vec<Setting>,
        text: String,
    },
    Text(String),
}

impl From<RemedyRepr> for Remedy {
    fn from(r: RemedyRepr) -> Self {
        match r {
            RemedyRepr::Full {
                change,
                name,
                why,
                settings,
                text,
            } => Remedy {
                change,
                name,
                why,
                settings,
                text,
            },
            RemedyRepr::Text(text) => Remedy {
                change: Change::Other,
                name: text.clone(),
                why: String::new(),
                settings: Vec::new(),
                text,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_settings_and_the_current_rate() {
        let r = Remedy::new(
            Change::LowerLearningRate { now: 0.2, to: 0.02 },
            "lower the learning rate",
            "the signal was healthy at initialisation",
        );
        assert_eq!(
            r.text,
            "lower the learning rate (now 0.2): the signal was healthy at initialisation"
        );
        let r = r.with_settings(vec![Setting::new("optim.lr", "0.02")]);
        assert_eq!(
            r.text,
            "lower the learning rate (optim.lr = 0.02, now 0.2): the signal was healthy at initialisation"
        );
        let n = Remedy::new(
            Change::Normalise {
                norms: vec!["layer".into(), "batch".into()],
            },
            "normalisation",
            "re-scales",
        )
        .with_settings(vec![Setting::words(
            "model.norm",
            &["layer".into(), "batch".into()],
        )]);
        assert_eq!(
            n.text,
            "normalisation (model.norm = \"layer\" or \"batch\"): re-scales"
        );
    }

    /// The object round-trips; a plain sentence (schema 3 and earlier) still loads.
    #[test]
    fn round_trips_and_reads_old_sentences() {
        let r = Remedy::new(
            Change::Residual {
                branch_scale: Some(0.1),
            },
            "residual connections",
            "an identity path",
        )
        .with_settings(vec![Setting::new("model.residual", "true")]);
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""change":"residual""#), "{text}");
        assert_eq!(serde_json::from_str::<Remedy>(&text).unwrap(), r);
        let old: Remedy = serde_json::from_str(r#""gradient clipping: bounds""#).unwrap();
        assert_eq!(old.change, Change::Other);
        assert_eq!(old.text, "gradient clipping: bounds");
    }
}

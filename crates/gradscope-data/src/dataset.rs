//! The in-memory data set: a task, a train split and a test split.

use std::fmt;

use serde::Serialize;

/// What the model has to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// One label in `0..classes` per row (trained with cross-entropy).
    Classification {
        /// Number of classes.
        classes: usize,
    },
    /// `outputs` real values per row (trained with mean squared error).
    Regression {
        /// Number of target values per row.
        outputs: usize,
    },
}

impl Task {
    /// Width of the model's output layer: the classes' logits or the regression outputs.
    pub fn output_dim(&self) -> usize {
        match *self {
            Task::Classification { classes } => classes,
            Task::Regression { outputs } => outputs,
        }
    }

    /// Whether this is a classification task.
    pub fn is_classification(&self) -> bool {
        matches!(self, Task::Classification { .. })
    }

    /// The number of classes, for a classification task.
    pub fn classes(&self) -> Option<usize> {
        match *self {
            Task::Classification { classes } => Some(classes),
            Task::Regression { .. } => None,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Task::Classification { classes } => write!(f, "classification, {classes} classes"),
            Task::Regression { outputs } => write!(f, "regression, {outputs} outputs"),
        }
    }
}

/// The targets of a split's rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class label per row.
    Classes(Vec<u32>),
    /// `n × outputs` values, row-major.
    Values(Vec<f32>),
}

/// One part (train or test) of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Number of rows.
    pub n: usize,
    /// Features per row.
    pub dim: usize,
    /// `n × dim` features, row-major.
    pub x: Vec<f32>,
    /// The rows' targets, in the same order.
    pub targets: Targets,
}

impl Split {
    /// Target values per row: 1 for class labels, the output count for regression.
    pub fn targets_per_row(&self) -> usize {
        match &self.targets {
            Targets::Classes(_) => 1,
            Targets::Values(values) => values.len().checked_div(self.n).unwrap_or(0),
        }
    }

    /// The features and targets of the rows `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// If an index is not below `n` (indices come from the program, e.g. a
    /// [`BatchSampler`](crate::BatchSampler), never from user input).
    pub fn gather(&self, indices: &[usize]) -> (Vec<f32>, Targets) {
        let mut x = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            x.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
        }
        let targets = match &self.targets {
            Targets::Classes(labels) => {
                Targets::Classes(indices.iter().map(|&i| labels[i]).collect())
            }
            Targets::Values(values) => {
                let k = self.targets_per_row();
                let mut out = Vec::with_capacity(indices.len() * k);
                for &i in indices {
                    out.extend_from_slice(&values[i * k..(i + 1) * k]);
                }
                Targets::Values(out)
            }
        };
        (x, targets)
    }

    /// How many rows carry each label `0..classes` (`None` for regression targets).
    pub fn class_counts(&self, classes: usize) -> Option<Vec<usize>> {
        let Targets::Classes(labels) = &self.targets else {
            return None;
        };
        let mut counts = vec![0; classes];
        for &label in labels {
            if let Some(c) = counts.get_mut(label as usize) {
                *c += 1;
            }
        }
        Some(counts)
    }
}

/// A loaded data set, ready for training.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Short name, e.g. `digits` (for a CSV file, the file's stem).
    pub name: String,
    /// What is predicted.
    pub task: Task,
    /// Features per row (equal to `train.dim` and `test.dim`).
    pub input_dim: usize,
    /// Values per position when a row is read as a sequence (recurrent nets) or a signal
    /// (convolutions): 2 for the adding problem (value, marker), 1 for every other data set.
    pub step_features: usize,
    /// Rows to train on.
    pub train: Split,
    /// Held-out rows to evaluate on.
    pub test: Split,
    /// One line for logs and reports, e.g.
    /// `digits: 1438 train / 359 test, 64 features, 10 classes, shuffle split seed 0`.
    pub description: String,
}

impl Dataset {
    /// The test accuracy of always predicting the test split's most frequent class: the level a
    /// model that learnt nothing reaches. `None` for regression or an empty test split.
    pub fn chance_accuracy(&self) -> Option<f64> {
        let classes = self.task.classes()?;
        if self.test.n == 0 {
            return None;
        }
        let counts = self.test.class_counts(classes)?;
        let majority = counts.into_iter().max()?;
        Some(majority as f64 / self.test.n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split() -> Split {
        Split {
            n: 3,
            dim: 2,
            x: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
            targets: Targets::Values(vec![0.5, -0.5, 1.5, -1.5, 2.5, -2.5]),
        }
    }

    #[test]
    fn gather_keeps_rows_together_in_order() {
        let (x, t) = split().gather(&[2, 0, 2]);
        assert_eq!(x, vec![20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
        assert_eq!(t, Targets::Values(vec![2.5, -2.5, 0.5, -0.5, 2.5, -2.5]));
        assert_eq!(split().targets_per_row(), 2);

        let s = Split {
            targets: Targets::Classes(vec![4, 5, 6]),
            ..split()
        };
        let (_, t) = s.gather(&[1]);
        assert_eq!(t, Targets::Classes(vec![5]));
    }

    #[test]
    fn chance_is_majority_class_of_test() {
        let test = Split {
            n: 4,
            dim: 1,
            x: vec![0.0; 4],
            targets: Targets::Classes(vec![1, 1, 1, 0]),
        };
        let data = Dataset {
            step_features: 1,
            name: "t".into(),
            task: Task::Classification { classes: 3 },
            input_dim: 1,
            train: test.clone(),
            test,
            description: String::new(),
        };
        assert_eq!(data.chance_accuracy(), Some(0.75));
        let regression = Dataset {
            step_features: 1,
            task: Task::Regression { outputs: 1 },
            ..data
        };
        assert_eq!(regression.chance_accuracy(), None);
    }

    #[test]
    fn task_dims() {
        assert_eq!(Task::Classification { classes: 10 }.output_dim(), 10);
        assert_eq!(Task::Regression { outputs: 3 }.output_dim(), 3);
        assert!(!Task::Regression { outputs: 3 }.is_classification());
        assert_eq!(
            Task::Classification { classes: 10 }.to_string(),
            "classification, 10 classes"
        );
    }
}

//! A float that survives JSON with its non-finite values intact.
//!
//! `serde_json` writes NaN and ±inf as `null`, which would erase exactly the events this toolkit
//! exists to show. [`Real`] writes finite values as JSON numbers and the others as the strings
//! `"NaN"`, `"inf"` and `"-inf"`, and reads both forms back.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An `f64` whose JSON form keeps NaN and infinities visible.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Real(pub f64);

impl Real {
    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }

    /// Whether the value is finite.
    pub fn is_finite(self) -> bool {
        self.0.is_finite()
    }
}

impl From<f64> for Real {
    fn from(v: f64) -> Self {
        Real(v)
    }
}

impl From<f32> for Real {
    fn from(v: f32) -> Self {
        Real(v as f64)
    }
}

impl fmt::Display for Real {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_real(self.0))
    }
}

/// The text of a float as the record formats write it: `NaN`, `inf`, `-inf` or the shortest
/// decimal that reads back to the same `f64`.
pub fn format_real(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "inf".into()
    } else if v == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{v}")
    }
}

/// `v` to `digits` significant figures, for people: `0.117`, `2.30`, `1.23e-15`, `NaN` (files keep
/// every digit through [`format_real`]; consoles and reports show this).
pub fn format_sig(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return format_real(v);
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let exponent = v.abs().log10().floor() as i32;
    if !(-3..6).contains(&exponent) {
        format!("{:.*e}", digits - 1, v)
    } else {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        format!("{v:.decimals$}")
    }
}

/// `v` to 3 significant figures without trailing zeros (`0.02`, `1`, `1.5e-7`): how a value a
/// person may type back into a config is shown.
pub fn format_short(v: f64) -> String {
    let s = format_sig(v, 3);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Parses the text written by [`format_real`] (and the usual spellings of non-finite values).
pub fn parse_real(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" | "NAN" => Some(f64::NAN),
        "inf" | "+inf" | "Infinity" | "infinity" | "INF" => Some(f64::INFINITY),
        "-inf" | "-Infinity" | "-infinity" | "-INF" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

impl Serialize for Real {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            serializer.serialize_str(&format_real(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RealVisitor;
        impl Visitor<'_> for RealVisitor {
            type Value = Real;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or one of \"NaN\", \"inf\", \"-inf\"")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Real, E> {
                Ok(Real(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Real, E> {
                Ok(Real(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Real, E> {
                Ok(Real(v as f64))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Real, E> {
                match v {
                    "NaN" | "inf" | "-inf" => Ok(Real(parse_real(v).unwrap_or(f64::NAN))),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(RealVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_figures_for_people() {
        assert_eq!(format_sig(0.116991643454039, 3), "0.117");
        assert_eq!(format_sig(std::f64::consts::LN_10, 3), "2.30");
        assert_eq!(format_sig(3.48e-15, 3), "3.48e-15");
        assert_eq!(format_sig(-1234567.0, 3), "-1.23e6");
        assert_eq!(format_sig(123.4, 3), "123");
        assert_eq!(format_sig(f64::NAN, 3), "NaN");
        assert_eq!(format_sig(0.0, 3), "0");
    }

    #[test]
    fn non_finite_round_trip() {
        let values = vec![
            Real(1.5),
            Real(f64::NAN),
            Real(f64::INFINITY),
            Real(f64::NEG_INFINITY),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, r#"[1.5,"NaN","inf","-inf"]"#);
        let back: Vec<Real> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0], Real(1.5));
        assert!(back[1].0.is_nan());
        assert_eq!(back[2].0, f64::INFINITY);
        assert_eq!(back[3].0, f64::NEG_INFINITY);
    }

    #[test]
    fn finite_values_are_exact() {
        for v in [0.1, 1e-300, 3.4028234663852886e38, -7.0] {
            let s = serde_json::to_string(&Real(v)).unwrap();
            let back: Real = serde_json::from_str(&s).unwrap();
            assert_eq!(back.0.to_bits(), v.to_bits());
        }
    }
}

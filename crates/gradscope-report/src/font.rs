//! The embedded font: DejaVu Sans (licence in `assets/DejaVuSans-LICENSE.txt`), registered with
//! plotters as `sans-serif`, so that text renders the same on a bare machine without fontconfig
//! or system fonts.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::error::ReportError;

/// The bytes of DejaVu Sans.
pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family the plots use (the embedded font is registered under this name).
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font once per process.
pub(crate) fn ensure_registered() -> Result<(), ReportError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .all(|style| register_font(FAMILY, style, DEJAVU_SANS).is_ok())
    });
    if ok { Ok(()) } else { Err(ReportError::Font) }
}

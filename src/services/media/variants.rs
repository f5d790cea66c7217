//! Image variants: `?w=&h=&fit=` on a public media URL gives the image resized, from a short
//! list of allowed sizes (so nobody can make the server render and store every size). Variants
//! are kept on disk by source digest and size, so each is rendered once.

use std::io::Cursor;
use std::path::PathBuf;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Within the box, keeping the aspect ratio (default).
    Contain,
    /// Fills the box, cropping the overflow.
    Cover,
    /// Stretched to the box.
    Fill,
}

impl Fit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Contain => "contain",
            Self::Cover => "cover",
            Self::Fill => "fill",
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariantParams {
    /// Width in pixels, one of the allowed sizes (`LECTERN_IMAGE_SIZES`).
    pub w: Option<u32>,
    /// Height in pixels, one of the allowed sizes.
    pub h: Option<u32>,
    /// `contain` (default), `cover` or `fill`; `cover` and `fill` need both `w` and `h`.
    #[param(value_type = Option<String>)]
    pub fit: Option<Fit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub fit: Fit,
}

impl Variant {
    /// The name a variant is stored and tagged under.
    pub fn key(&self) -> String {
        format!("{}x{}-{}", self.w.unwrap_or(0), self.h.unwrap_or(0), self.fit.as_str())
    }
}

/// The requested variant, if any; sizes outside `allowed` are a 400 that lists them.
pub fn parse(params: &VariantParams, allowed: &[u32]) -> ApiResult<Option<Variant>> {
    if params.w.is_none() && params.h.is_none() {
        if params.fit.is_some() {
            return Err(ApiError::invalid_field("fit", "needs `w` and/or `h`"));
        }
        return Ok(None);
    }
    for (name, value) in [("w", params.w), ("h", params.h)] {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                let sizes: Vec<String> = allowed.iter().map(u32::to_string).collect();
                return Err(ApiError::invalid_field(
                    name,
                    format!("{v} is not an allowed size; use one of {}", sizes.join(", ")),
                )
                .with_details(serde_json::json!({ "field": name, "allowed": allowed })));
            }
        }
    }
    let fit = params.fit.unwrap_or(Fit::Contain);
    if fit != Fit::Contain && (params.w.is_none() || params.h.is_none()) {
        return Err(ApiError::invalid_field("fit", "`cover` and `fill` need both `w` and `h`"));
    }
    Ok(Some(Variant { w: params.w, h: params.h, fit }))
}

/// Where a rendered variant is kept.
pub fn path(root: &std::path::Path, sha256: &str, variant: &Variant, ext: &str) -> PathBuf {
    root.join(sha256.get(..2).unwrap_or("00")).join(format!("{sha256}-{}.{ext}", variant.key()))
}

/// JPEG stays JPEG; everything else becomes PNG (lossless, keeps transparency).
pub fn output_format(mime: &str) -> (ImageFormat, &'static str, &'static str) {
    if mime == "image/jpeg" {
        (ImageFormat::Jpeg, "jpg", "image/jpeg")
    } else {
        (ImageFormat::Png, "png", "image/png")
    }
}

fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    // A small file can claim a huge canvas: bound what decoding may allocate.
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|e| e.to_string())
}

/// Renders the variant (never larger than the original). CPU-bound: call off the runtime.
pub fn render(bytes: &[u8], mime: &str, variant: &Variant) -> Result<Vec<u8>, String> {
    let image = decode(bytes)?;
    let (width, height) = (image.width(), image.height());
    let w = variant.w.unwrap_or(u32::MAX).min(width);
    let h = variant.h.unwrap_or(u32::MAX).min(height);
    let resized = match variant.fit {
        Fit::Contain => image.resize(w, h, FilterType::Lanczos3),
        Fit::Cover => image.resize_to_fill(w, h, FilterType::Lanczos3),
        Fit::Fill => image.resize_exact(w, h, FilterType::Lanczos3),
    };
    let (format, _, _) = output_format(mime);
    let resized = if format == ImageFormat::Jpeg { DynamicImage::ImageRgb8(resized.to_rgb8()) } else { resized };
    let mut out = Vec::new();
    resized.write_to(&mut Cursor::new(&mut out), format).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbaImage::new(w, h).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn only_allowed_sizes_and_sensible_fits() {
        let allowed = [64, 128, 256];
        let p = |w, h, fit| VariantParams { w, h, fit };
        assert_eq!(parse(&p(None, None, None), &allowed).unwrap(), None);
        assert!(parse(&p(Some(100), None, None), &allowed).is_err());
        assert!(parse(&p(Some(64), None, Some(Fit::Cover)), &allowed).is_err());
        assert_eq!(
            parse(&p(Some(64), Some(128), Some(Fit::Cover)), &allowed).unwrap(),
            Some(Variant { w: Some(64), h: Some(128), fit: Fit::Cover })
        );
    }

    #[test]
    fn resizes_by_fit_and_never_enlarges() {
        let source = png(400, 200);
        let size = |bytes: Vec<u8>| image::load_from_memory(&bytes).map(|i| (i.width(), i.height())).unwrap();
        let v = |w, h, fit| Variant { w, h, fit };
        assert_eq!(size(render(&source, "image/png", &v(Some(128), None, Fit::Contain)).unwrap()), (128, 64));
        assert_eq!(size(render(&source, "image/png", &v(Some(64), Some(64), Fit::Cover)).unwrap()), (64, 64));
        assert_eq!(size(render(&source, "image/png", &v(Some(64), Some(64), Fit::Fill)).unwrap()), (64, 64));
        assert_eq!(size(render(&source, "image/png", &v(Some(1024), None, Fit::Contain)).unwrap()), (400, 200));
        assert!(render(b"garbage", "image/png", &v(Some(64), None, Fit::Contain)).is_err());
    }
}

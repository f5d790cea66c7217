//! What a file is, from its bytes (never from the name or the client's Content-Type), and the
//! pixel size of images.

use std::io::Cursor;

/// The MIME type of `bytes`.
pub fn mime(bytes: &[u8]) -> String {
    // SVG first: it is XML, and sniffers call it text/xml.
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg")) {
        return "image/svg+xml".to_owned();
    }
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_owned();
    }
    if std::str::from_utf8(bytes).is_ok() {
        return "text/plain".to_owned();
    }
    "application/octet-stream".to_owned()
}

/// Raster formats the server can read, resize and re-encode.
pub fn is_raster(mime: &str) -> bool {
    matches!(mime, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

/// Width and height of a raster image, read from its header only.
pub fn dimensions(bytes: &[u8], mime: &str) -> Option<(u32, u32)> {
    if !is_raster(mime) {
        return None;
    }
    image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?.into_dimensions().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_content() {
        let mut png = Vec::new();
        image::RgbImage::new(3, 2).write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        assert_eq!(mime(&png), "image/png");
        assert_eq!(dimensions(&png, "image/png"), Some((3, 2)));
        assert_eq!(mime(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(mime(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"), "image/svg+xml");
        assert_eq!(mime("plain words".as_bytes()), "text/plain");
        assert_eq!(mime(&[0xff, 0x00, 0x13, 0x37]), "application/octet-stream");
        assert_eq!(dimensions(b"not an image", "image/png"), None);
    }
}

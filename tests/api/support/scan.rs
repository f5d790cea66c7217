//! PDFs for the parsing tests: a page of a real PDF rendered by pdftoppm (the "scan"),
//! image-only PDFs written around such images, optionally with an invisible text layer (render
//! mode 3) as scanners with OCR make them, and text placed at given positions (tables).

use std::io::Write;
use std::path::Path;

/// Page `page` of `pdf` as a grayscale PNG at `dpi`.
pub fn render(pdf: &Path, page: u32, dpi: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-gray",
            "-singlefile",
            "-r",
            &dpi.to_string(),
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
        ])
        .arg(pdf)
        .arg(&out)
        .status()
        .expect("pdftoppm (poppler-utils) is installed: .ci/setup-ocr");
    assert!(status.success());
    std::fs::read(out.with_extension("png")).unwrap()
}

/// A PDF with one page per image (PNG bytes, shown at `dpi`), each with an optional invisible
/// text layer.
pub fn image_pdf(pages: &[(Vec<u8>, Option<&str>)], dpi: u32) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1: catalog, 2: pages, 3: font; then page, image and content per page.
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", 4 + 3 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
    for (i, (png, layer)) in pages.iter().enumerate() {
        let gray = image::load_from_memory(png).unwrap().to_luma8();
        let (w, h) = gray.dimensions();
        let (pw, ph) = (f64::from(w) * 72.0 / f64::from(dpi), f64::from(h) * 72.0 / f64::from(dpi));
        let (image_id, content_id) = (5 + 3 * i, 6 + 3 * i);
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] /Resources << /XObject << /Im0 {image_id} 0 R >> \
                 /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(gray.as_raw()).unwrap();
        let pixels = encoder.finish().unwrap();
        let mut image = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 \
             /Filter /FlateDecode /Length {} >>\nstream\n",
            pixels.len()
        )
        .into_bytes();
        image.extend(pixels);
        image.extend(b"\nendstream");
        objects.push(image);
        let mut content = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im0 Do Q\n");
        if let Some(layer) = layer {
            content.push_str(&format!("BT 3 Tr /F1 11 Tf 14 TL 72 {:.2} Td\n", ph - 72.0));
            for line in layer.lines() {
                let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
                content.push_str(&format!("({escaped}) Tj T*\n"));
            }
            content.push_str("ET\n");
        }
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content.into_bytes());
        stream.extend(b"\nendstream");
        objects.push(stream);
    }
    write_pdf(&objects)
}

/// A one-page A4 PDF with each text drawn at (x, y) points from the top left, in Helvetica.
pub fn text_pdf(texts: &[(f64, f64, &str)]) -> Vec<u8> {
    let mut content = String::new();
    for (x, y, text) in texts {
        let escaped = text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        content.push_str(&format!("BT /F1 10 Tf {x:.1} {:.1} Td ({escaped}) Tj ET\n", 842.0 - y));
    }
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend(content.into_bytes());
    stream.extend(b"\nendstream");
    write_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
        stream,
    ])
}

/// Objects numbered from 1, with the cross-reference table and trailer.
fn write_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).into_bytes(),
    );
    out
}

//! Parser tests on real documents from public test suites (../shared/data).

use std::collections::HashSet;
use std::path::PathBuf;

use super::*;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

fn parse_file(rel: &str) -> Result<ParsedDocument, ParseError> {
    let bytes = std::fs::read(shared(rel)).unwrap();
    let name = rel.rsplit('/').next();
    detect(&bytes, name, None).and_then(|k| parse_with_ocr(&bytes, k, &Limits::default(), None))
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(str::to_lowercase).collect()
}

/// Share of `expected`'s words that `got` contains.
fn recall(expected: &str, got: &str) -> f64 {
    let got: HashSet<String> = words(got).into_iter().collect();
    let expected = words(expected);
    expected.iter().filter(|w| got.contains(*w)).count() as f64 / expected.len().max(1) as f64
}

#[test]
fn every_shared_pdf_gives_text_or_a_clear_reason_by_its_category() {
    let manifest = std::fs::read_to_string(shared("pdfs/MANIFEST.tsv")).unwrap();
    let mut readable = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, category) = (cols[0], cols[4]);
        let result = parse_file(&format!("pdfs/{file}"));
        match category {
            "normal" | "form" | "scanned-ocr" | "encrypted-empty-password" => {
                let doc = result.unwrap_or_else(|e| panic!("{file} ({category}): {e}"));
                assert!(!doc.text().trim().is_empty(), "{file} has text");
                let pages: std::collections::BTreeSet<u32> = doc.sections.iter().filter_map(|s| s.page).collect();
                assert_eq!(pages, (1..=doc.pages.unwrap()).collect(), "{file}: every page has its sections");
                readable += 1;
            }
            "encrypted-user-password" => assert_eq!(result.unwrap_err(), ParseError::Encrypted, "{file}"),
            // Damaged files: any outcome but a panic, and an error must say what is wrong.
            _ => {
                if let Err(e) = result {
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
    assert!(readable >= 30, "{readable} readable PDFs");
}

#[test]
fn pdf_text_matches_the_reference_extraction() {
    let doc = parse_file("pdfs/pypdf__crazyones.pdf").unwrap();
    let expected = std::fs::read_to_string(shared("pdfs/expected/pypdf__crazyones__crazyones.txt")).unwrap();
    let r = recall(&expected, &doc.text());
    assert!(r > 0.9, "recall {r:.2}");
}

#[test]
fn encrypted_pdfs_with_an_empty_password_open_and_image_only_ones_say_so() {
    for file in ["pypdf__r2-empty-password.pdf", "pypdf__r4-aes-user-password.pdf", "pypdf__r6-empty-password.pdf"] {
        let result = parse_file(&format!("pdfs/{file}"));
        if file.contains("user-password") {
            assert_eq!(
                result.unwrap_err().to_string(),
                "the PDF is encrypted with a password; upload it without the password"
            );
        } else {
            assert!(result.unwrap().text().contains("encryption"), "{file}");
        }
    }
    let scanned = parse_file("pdfs/sf__imagemagick-CCITTFaxDecode.pdf").unwrap_err();
    assert_eq!(scanned.to_string(), "no text layer (scanned or image-only document); OCR is not available");
}

#[test]
fn pages_over_the_limit_are_refused_with_the_numbers() {
    let bytes = std::fs::read(shared("pdfs/sf__pdflatex-4-pages.pdf")).unwrap();
    let err = parse(&bytes, DocumentKind::Pdf, &Limits { max_pages: 3, ..Limits::default() }).unwrap_err();
    assert_eq!(err, ParseError::TooManyPages { pages: 4, limit: 3 });
    assert_eq!(err.to_string(), "the document has 4 pages; the limit is 3");
}

#[test]
fn docx_paragraphs_tables_and_headings_come_through() {
    let tables = parse_file("docs/docx/mammoth__tables.docx").unwrap();
    assert_eq!(tables.kind, DocumentKind::Docx);
    let text = tables.text();
    assert!(text.contains("Above") && text.contains("| Top left | Top right |") && text.contains("Below"), "{text}");
    let table = tables.tables().next().expect("the table is kept as a table");
    assert_eq!(table.header, ["Top left", "Top right"]);
    assert_eq!(table.rows, [["Bottom left", "Bottom right"]]);
    let headed = parse_file("docs/docx/pydocx__par-known-paragraphs.docx").unwrap();
    assert_eq!(headed.sections[0].headings, ["Heading Paragraph"]);
    assert_eq!(headed.sections[0].text, "Normal paragraph");

    let handbook = parse_file("docs/docx/unst__handbook-1p.docx").unwrap();
    let expected =
        std::fs::read_to_string(shared("docs/docx/expected/unst__handbook-1p__handbook-1p.docx.md")).unwrap();
    let r = recall(&expected, &handbook.text());
    assert!(r > 0.95, "recall against the reference conversion: {r:.2}");
}

#[test]
fn html_keeps_the_article_and_drops_page_furniture() {
    let mut recalls = Vec::new();
    for entry in std::fs::read_dir(shared("docs/html")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".html") else { continue };
        let doc = parse_file(&format!("docs/html/{name}")).unwrap();
        assert_eq!(doc.kind, DocumentKind::Html);
        let text = doc.text();
        assert!(
            !text.contains("<script") && !text.contains("function(") && !text.contains("{display"),
            "{name}: no code or CSS"
        );
        // Readability's extraction of the same page is the reference for the article text.
        let expected_html =
            std::fs::read_to_string(shared(&format!("docs/html/expected/{stem}__expected.html"))).unwrap();
        let expected = html::parse(&expected_html).text();
        recalls.push((name, recall(&expected, &text)));
    }
    for (name, r) in &recalls {
        assert!(*r > 0.9, "{name}: article recall {r:.2}");
    }
    let ars = parse_file("docs/html/readability__ars-1.html").unwrap();
    assert_eq!(
        ars.title.as_deref(),
        Some("Just-released Minecraft exploit makes it easy to crash game servers | Ars Technica")
    );
}

#[test]
fn markdown_sections_follow_headings_and_skip_front_matter() {
    let doc = parse_file("docs/md/marked__markdown_documentation_basics.md").unwrap();
    assert_eq!(doc.title.as_deref(), Some("Markdown: Basics"));
    assert!(doc
        .sections
        .iter()
        .any(|s| s.headings == ["Markdown: Basics", "Getting the Gist of Markdown's Formatting Syntax"]));
    assert!(
        doc.sections.iter().any(|s| s.headings.len() == 2 && s.headings[1] == "Paragraphs, Headers, Blockquotes"),
        "{:?}",
        doc.sections.iter().map(|s| &s.headings).collect::<Vec<_>>()
    );
    let front = parse_file("docs/md/marked__amps_and_angles_encoding.md").unwrap();
    assert!(
        front.sections.iter().all(|s| !s.headings.iter().any(|h| h.contains("pedantic"))),
        "front matter is not a heading"
    );
    assert!(!front.text().contains("pedantic"));
}

#[test]
fn detection_uses_content_not_the_name() {
    let pdf = std::fs::read(shared("pdfs/pypdf__crazyones.pdf")).unwrap();
    assert_eq!(detect(&pdf, Some("renamed.txt"), Some("text/plain")), Ok(DocumentKind::Pdf));
    let docx = std::fs::read(shared("docs/docx/unst__simple.docx")).unwrap();
    assert_eq!(detect(&docx, Some("x.bin"), None), Ok(DocumentKind::Docx));
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    assert_eq!(detect(&png, Some("photo.pdf"), None), Ok(DocumentKind::Png));
    let err = detect(b"GIF89a\x01\0", Some("photo.pdf"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported file type (a GIF image); supported: PDF, DOCX, XLSX, XLS, ODS, PPTX, ODT, EPUB, RTF, EML, HTML, \
         Markdown, plain text, CSV, JSON, PNG, JPEG, TIFF"
    );
    assert!(matches!(
        detect(&[0, 159, 146, 150, 0, 1], Some("garbage.pdf"), None),
        Err(ParseError::Unsupported { .. })
    ));
    assert_eq!(detect(b"<!DOCTYPE html><p>hi</p>", None, None), Ok(DocumentKind::Html));
    assert_eq!(detect(b"{\"a\": [1, 2]}", None, None), Ok(DocumentKind::Json));
    assert_eq!(detect(b"name,age\nann,3\n", Some("people.csv"), None), Ok(DocumentKind::Csv));
    assert_eq!(detect(b"# Title\n\ntext\n\n## Part\n", None, None), Ok(DocumentKind::Markdown));
    assert_eq!(detect("plain words, caf\u{e9}".as_bytes(), None, None), Ok(DocumentKind::Text));
}

#[test]
fn empty_truncated_and_legacy_encoded_inputs() {
    assert_eq!(parse(b"", DocumentKind::Text, &Limits::default()), Err(ParseError::Empty));
    assert_eq!(parse(b"  \n\n ", DocumentKind::Markdown, &Limits::default()), Err(ParseError::Empty));
    let pdf = std::fs::read(shared("pdfs/pypdf__crazyones.pdf")).unwrap();
    let truncated = parse(&pdf[..pdf.len() / 3], DocumentKind::Pdf, &Limits::default());
    assert!(matches!(truncated, Err(ParseError::Malformed(_) | ParseError::NoText)) || truncated.is_ok());
    // Windows-1252 "café" and UTF-16 with a BOM both decode.
    assert_eq!(parse(b"caf\xe9", DocumentKind::Text, &Limits::default()).unwrap().text(), "café");
    let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain("hé".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    assert_eq!(parse(&utf16, DocumentKind::Text, &Limits::default()).unwrap().text(), "hé");
}

#[test]
fn a_docx_that_unpacks_past_the_limit_is_refused() {
    use std::io::Write;
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).unwrap();
    // 8 MiB of one byte compresses to a few KiB: a small bomb.
    let filler = vec![b' '; 8 * 1024 * 1024];
    zip.write_all(b"<w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:t>").unwrap();
    zip.write_all(&filler).unwrap();
    zip.write_all(b"</w:t></w:r></w:p></w:body></w:document>").unwrap();
    zip.finish().unwrap();
    let bytes = buffer.into_inner();
    assert!(bytes.len() < 100 * 1024, "compressed to {} bytes", bytes.len());
    assert_eq!(detect(&bytes, None, None), Ok(DocumentKind::Docx));
    let err = parse(&bytes, DocumentKind::Docx, &Limits { max_unpacked_bytes: 1024 * 1024, ..Limits::default() })
        .unwrap_err();
    assert_eq!(err, ParseError::TooLarge { limit_bytes: 1024 * 1024 });
}

#[test]
fn html_markdown_and_csv_tables_are_kept_as_tables_and_layout_tables_are_not() {
    let html = html::parse(
        "<html><body><h2>Fares</h2><p>Prices from May.</p><table><thead><tr><th>Route</th><th>Adult</th></tr></thead>\
         <tbody><tr><td>Nordhavn &ndash; Ske</td><td>12 EUR</td></tr><tr><td colspan=\"2\">Children free</td></tr></tbody>\
         </table><table><tr><td><table><tr><td>nested</td><td>layout</td></tr></table></td></tr></table></body></html>",
    );
    let table = html.tables().next().unwrap();
    assert_eq!(table.header, ["Route", "Adult"]);
    assert_eq!(table.rows, [["Nordhavn – Ske", "12 EUR"], ["Children free", "Children free"]]);
    assert_eq!(html.sections[1].headings, ["Fares"]);
    assert_eq!(html.tables().count(), 1, "a layout table is read as text");
    assert!(html.text().contains("nested"));

    let markdown = markdown::parse("# Fares\n\n| Route | Adult |\n|---|---|\n| Ske | 12 EUR |\n\nAfter.\n");
    assert_eq!(markdown.tables().next().unwrap().rows, [["Ske", "12 EUR"]]);
    assert_eq!(markdown.sections.last().unwrap().text, "After.");

    let csv = parse(b"route,adult\nSke,12\n", DocumentKind::Csv, &Limits::default()).unwrap();
    assert_eq!(csv.text(), "| route | adult |\n| --- | --- |\n| Ske | 12 |");
}

/// A page rendered from a real PDF by pdftoppm is a scan: OCR reads it back.
#[test]
fn an_image_is_read_by_ocr_with_its_confidence() {
    let ocr = ocr::Ocr::locate("eng", std::time::Duration::from_secs(60), 300)
        .expect("tesseract is installed (.ci/setup-ocr)");
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-singlefile", "-r", "150"])
        .arg(shared("pdfs/pypdf__crazyones.pdf"))
        .arg(dir.path().join("scan"))
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read(dir.path().join("scan.png")).unwrap();
    assert_eq!(detect(&png, Some("scan.png"), None), Ok(DocumentKind::Png));
    assert_eq!(parse_with_ocr(&png, DocumentKind::Png, &Limits::default(), None), Err(ParseError::NoText));
    let doc = parse_with_ocr(&png, DocumentKind::Png, &Limits::default(), Some(&ocr)).unwrap();
    let expected = std::fs::read_to_string(shared("pdfs/expected/pypdf__crazyones__crazyones.txt")).unwrap();
    let r = recall(&expected, &doc.text());
    assert!(r > 0.9, "OCR recall {r:.2}: {}", doc.text());
    assert_eq!(doc.ocr.len(), 1);
    assert!(doc.ocr[0].confidence > 80.0 && doc.ocr[0].words > 50, "{:?}", doc.ocr);
}

#[test]
fn the_pdf_outline_gives_heading_paths_and_running_page_numbers_go() {
    let doc = parse_file("pdfs/sf__pdflatex-outline.pdf").unwrap();
    let headed: Vec<&Section> = doc.sections.iter().filter(|s| !s.headings.is_empty()).collect();
    assert!(headed.len() >= 9, "{:#?}", doc.sections.iter().map(|s| (&s.page, &s.headings)).collect::<Vec<_>>());
    let first = headed.iter().find(|s| s.text.contains("Hello, here is some text")).unwrap();
    assert_eq!(first.headings, ["Foo"]);
    assert!(
        doc.sections.iter().all(|s| s.text.lines().all(|l| l.trim().parse::<u32>().is_err())),
        "no lone page numbers"
    );
}

//! Documents as people make them: scanned PDFs and images read by OCR (Tesseract, for real),
//! tables kept as tables in every format that has them, and the office formats beyond DOCX.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, spawn_app, TestApp};
use crate::support::scan::{image_pdf, render, text_pdf};

fn shared_path(rel: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}/../shared/data/{rel}", env!("CARGO_MANIFEST_DIR")))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/formats/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Uploads `files`, waits for every job and returns each document's view by file name.
async fn ingest(app: &TestApp, token: &str, kb: &str, files: Vec<(&str, Vec<u8>)>) -> Vec<(String, Value)> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    let response = app.upload(token, kb, files, "").await;
    assert_eq!(response.status(), 202);
    let accepted = json(response).await;
    // One file answers with its document and job, several with lists.
    let items = match accepted["accepted"].as_array() {
        Some(items) => {
            assert_eq!(accepted["rejected"], json!([]), "{accepted}");
            items.clone()
        }
        None => vec![accepted.clone()],
    };
    let mut out = Vec::new();
    for (name, item) in names.into_iter().zip(&items) {
        app.wait_for_job(token, item["job"]["id"].as_str().unwrap()).await;
        let path = format!("/v1/knowledge-bases/{kb}/documents/{}", item["document"]["id"].as_str().unwrap());
        out.push((name, json(app.call(Method::GET, &path, token, None, None).await).await));
    }
    out
}

async fn lexical(app: &TestApp, token: &str, kb: &str, query: &str) -> Vec<Value> {
    let path = format!("/v1/knowledge-bases/{kb}/search");
    let body = json!({"query": query, "mode": "lexical", "limit": 20});
    let found = json(app.call(Method::POST, &path, token, None, Some(body)).await).await;
    found["hits"].as_array().unwrap_or_else(|| panic!("{found}")).clone()
}

fn view<'a>(docs: &'a [(String, Value)], name: &str) -> &'a Value {
    &docs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name}")).1
}

/// A scanned PDF, a PNG, a scan with a good invisible text layer and one with a garbage layer:
/// the text of each is found by search on the right page; only the pages without a usable text
/// layer are OCRed, and the document says which, with Tesseract's confidence.
#[tokio::test]
async fn scanned_pages_and_images_are_read_by_ocr_and_found_on_their_page() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Scans"})).await;
    let source = shared_path("pdfs/pypdf__crazyones.pdf");
    let scan = render(&source, 1, 200);
    let text = std::fs::read_to_string(shared_path("pdfs/expected/pypdf__crazyones__crazyones.txt")).unwrap();
    let garbage = "~~ ## @@ %% ^^ ** ++ == \u{00a6}\u{00a6} || ## ~~ @@\n".repeat(12);
    let blank = render(&shared_path("pdfs/sf__imagemagick-CCITTFaxDecode.pdf"), 1, 100);
    let docs = ingest(
        &app,
        &token,
        &kb,
        vec![
            ("scan.pdf", image_pdf(&[(blank.clone(), None), (scan.clone(), None)], 200)),
            ("scan.png", scan.clone()),
            ("layered.pdf", image_pdf(&[(scan.clone(), Some(text.as_str()))], 200)),
            ("garbled.pdf", image_pdf(&[(scan.clone(), Some(garbage.as_str()))], 200)),
        ],
    )
    .await;
    for (name, doc) in &docs {
        assert_eq!(doc["status"], "ready", "{name}: {doc}");
    }
    let scanned = view(&docs, "scan.pdf");
    let ocr_pages: Vec<Option<u64>> =
        scanned["parse"]["ocrPages"].as_array().unwrap().iter().map(|p| p["page"].as_u64()).collect();
    assert_eq!(ocr_pages, [Some(1), Some(2)], "both image-only pages were OCRed: {scanned}");
    assert_eq!(scanned["parse"]["ocrPages"][0]["words"], 0, "the blank page has no words");
    let page_two = &scanned["parse"]["ocrPages"][1];
    assert!(page_two["confidence"].as_f64().unwrap() > 70.0 && page_two["words"].as_u64().unwrap() > 50, "{page_two}");
    assert_eq!(view(&docs, "scan.png")["parse"]["ocrPages"][0]["page"], Value::Null);
    assert_eq!(view(&docs, "layered.pdf")["parse"]["ocrPages"], json!([]), "a good text layer is kept, not OCRed");
    assert_eq!(view(&docs, "garbled.pdf")["parse"]["ocrPages"].as_array().unwrap().len(), 1, "garbage is OCRed");

    let hits = lexical(&app, &token, &kb, "misfits rebels troublemakers").await;
    let found: std::collections::BTreeSet<&str> = hits.iter().map(|h| h["documentTitle"].as_str().unwrap()).collect();
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["garbled.pdf", "layered.pdf", "scan.pdf", "scan.png"]);
    let in_scan = hits.iter().find(|h| h["documentTitle"] == "scan.pdf").unwrap();
    assert_eq!(in_scan["pages"], json!([2]), "cited on the page the words are on: {in_scan}");
}

/// Hostile images fail with a reason and hold nothing else up.
#[tokio::test]
async fn a_pixel_bomb_fails_with_its_size_and_the_other_documents_are_read() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Hostile"})).await;
    // A PNG header claiming 50,000 x 50,000 pixels.
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend(50_000u32.to_be_bytes());
    bomb.extend(50_000u32.to_be_bytes());
    bomb.extend([8, 0, 0, 0, 0, 0, 0, 0, 0]);
    let docs = ingest(&app, &token, &kb, vec![("bomb.png", bomb), ("ferry.odt", fixture("ferry.odt"))]).await;
    let failed = view(&docs, "bomb.png");
    assert_eq!(
        (failed["status"].as_str(), failed["error"].as_str()),
        (Some("failed"), Some("the image is 50000 x 50000 pixels; the limit is 100000000 pixels"))
    );
    assert_eq!(view(&docs, "ferry.odt")["status"], "ready");
}

/// Spreadsheets, CSV, HTML, DOCX, presentations and the other formats: each is read by its
/// type, tables are chunked by rows with their header in every chunk, so a search for a cell
/// finds its row with the column names, and a presentation's slides are its pages.
#[tokio::test]
async fn every_format_is_read_and_tables_are_found_by_their_cells_with_their_header() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Formats", "chunkMaxTokens": 96})).await;
    let csv: String = std::iter::once("Ticket,Route,Fare\n".to_owned())
        .chain((1..=80).map(|i| format!("T{i:03},Route {i},{} EUR\n", 10 + i)))
        .collect();
    let html = "<html><head><title>Fares</title></head><body><h1>Fares</h1><p>Valid from May.</p><table>\
                <tr><th>Route</th><th>Adult</th><th>Child</th></tr><tr><td>Nordhavn to Ske</td><td>12 EUR</td>\
                <td>6 EUR</td></tr><tr><td>Ske to Ostby</td><td>9 EUR</td><td>free</td></tr></table></body></html>";
    let files = vec![
        ("fleet.xlsx", fixture("fleet.xlsx")),
        ("crew.ods", fixture("crew.ods")),
        ("deck.pptx", fixture("deck.pptx")),
        ("ferry.odt", fixture("ferry.odt")),
        ("book.epub", fixture("book.epub")),
        ("notice.rtf", fixture("notice.rtf")),
        ("berth.eml", fixture("berth.eml")),
        ("tickets.csv", csv.into_bytes()),
        ("fares.html", html.as_bytes().to_vec()),
    ];
    let docs = ingest(&app, &token, &kb, files).await;
    let kinds: Vec<(&str, &str, &str)> =
        docs.iter().map(|(n, d)| (n.as_str(), d["kind"].as_str().unwrap(), d["status"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            ("fleet.xlsx", "xlsx", "ready"),
            ("crew.ods", "ods", "ready"),
            ("deck.pptx", "pptx", "ready"),
            ("ferry.odt", "odt", "ready"),
            ("book.epub", "epub", "ready"),
            ("notice.rtf", "rtf", "ready"),
            ("berth.eml", "eml", "ready"),
            ("tickets.csv", "csv", "ready"),
            ("fares.html", "html", "ready"),
        ]
    );
    assert_eq!(view(&docs, "fleet.xlsx")["parse"]["tables"], 1);
    assert_eq!(view(&docs, "deck.pptx")["pages"], 2);

    // A cell deep in a table: its row, under the header, in the sheet's section.
    let hit = &lexical(&app, &token, &kb, "Boreas Ske").await[0];
    assert_eq!(hit["documentTitle"], "fleet.xlsx");
    assert_eq!(hit["headings"], json!(["Fleet"]));
    let text = hit["text"].as_str().unwrap();
    assert!(text.starts_with("| Ship | Tonnes | Home port |\n| --- | --- | --- |\n"), "{text}");
    assert!(text.contains("| Boreas | 87.5 | Ske |"), "{text}");
    let late = &lexical(&app, &token, &kb, "T077").await[0];
    assert_eq!(late["documentTitle"], "tickets.csv");
    let late_text = late["text"].as_str().unwrap();
    assert!(late_text.starts_with("| Ticket | Route | Fare |") && late_text.contains("| T077 | Route 77 | 87 EUR |"));
    let chunks = json(
        app.call(
            Method::GET,
            &format!(
                "/v1/knowledge-bases/{kb}/documents/{}/chunks?limit=100",
                view(&docs, "tickets.csv")["id"].as_str().unwrap()
            ),
            &token,
            None,
            None,
        )
        .await,
    )
    .await;
    let chunks = chunks["data"].as_array().unwrap();
    assert!(chunks.len() >= 3, "80 rows in several chunks");
    assert!(chunks.iter().all(|c| c["text"].as_str().unwrap().starts_with("| Ticket | Route | Fare |")));
    let fare = &lexical(&app, &token, &kb, "Ostby").await[0];
    assert!(fare["text"].as_str().unwrap().contains("| Route | Adult | Child |"), "{fare}");

    // The other formats: words from each, where they belong.
    let slide = &lexical(&app, &token, &kb, "harbour ferry notes").await[0];
    assert_eq!((slide["documentTitle"].as_str(), slide["pages"].clone()), (Some("deck.pptx"), json!([2])), "{slide}");
    for (query, title) in [
        ("Nørby", "notice.rtf"),
        ("lamp burned", "book.epub"),
        ("night boat crossings", "ferry.odt"),
        ("Pilot Ines", "crew.ods"),
        ("Tuesday berth", "berth.eml"),
    ] {
        let hits = lexical(&app, &token, &kb, query).await;
        assert_eq!(hits.first().map(|h| h["documentTitle"].clone()), Some(json!(title)), "{query}: {hits:?}");
    }
}

/// A table set with whitespace in a PDF: chunked by rows under its header, a cell found with its
/// row and its page; the prose around it stays prose.
#[tokio::test]
async fn a_pdf_table_is_found_by_a_cell_with_its_header_and_page() {
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Fleet", "chunkMaxTokens": 64})).await;
    let mut texts = vec![(72.0, 60.0, "The fleet register lists every ship with its tonnage and home port.")];
    texts.extend([(72.0, 90.0, "Ship"), (240.0, 90.0, "Tonnes"), (340.0, 90.0, "Home port")]);
    let ships: Vec<(String, String, String)> = (1..=30)
        .map(|n| match n {
            17 => ("Boreas".to_owned(), "875".to_owned(), "Skelby".to_owned()),
            n => (format!("Vessel {n}"), format!("{}", 100 + n), format!("Harbour {n}")),
        })
        .collect();
    for (i, (ship, tonnes, port)) in ships.iter().enumerate() {
        let y = 104.0 + 14.0 * i as f64;
        texts.extend([(72.0, y, ship.as_str()), (240.0, y, tonnes.as_str()), (340.0, y, port.as_str())]);
    }
    texts.push((72.0, 560.0, "Ships in dry dock are marked in the winter register instead."));
    let docs = ingest(&app, &token, &kb, vec![("fleet.pdf", text_pdf(&texts))]).await;
    assert_eq!(view(&docs, "fleet.pdf")["parse"]["tables"], 1, "{:?}", docs);
    let hit = &lexical(&app, &token, &kb, "Boreas").await[0];
    let text = hit["text"].as_str().unwrap();
    assert!(text.starts_with("| Ship | Tonnes | Home port |\n| --- | --- | --- |\n"), "{text}");
    assert!(text.contains("| Boreas | 875 | Skelby |"), "{text}");
    assert_eq!(hit["pages"], json!([1]));
    let prose = &lexical(&app, &token, &kb, "dry dock winter register").await[0];
    assert!(!prose["text"].as_str().unwrap().contains('|'), "{prose}");
}

fn lectern(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lectern"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

/// `lectern parse` shows what the pipeline reads; `lectern eval-parse` scores it against the
/// references written by hand for a page drawn across two columns and a whitespace table.
#[test]
fn parse_and_eval_parse_show_and_score_what_the_pipeline_reads() {
    let shown = lectern(&["parse", "tests/fixtures/parse/table.pdf", "--no-ocr"]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let markdown = String::from_utf8(shown.stdout).unwrap();
    assert!(
        markdown.contains("| Route | Adult | Child |\n| --- | --- | --- |\n| Nordhavn to Ske | 12 EUR | 6 EUR |"),
        "{markdown}"
    );
    let json_out = lectern(&["parse", "tests/fixtures/formats/deck.pptx", "--format", "json"]);
    let parsed: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!((parsed["kind"].as_str(), parsed["pages"].as_u64()), (Some("pptx"), Some(2)), "{parsed}");
    assert_eq!(parsed["report"]["tables"], 1);

    let scored = lectern(&["eval-parse", "--dataset", "tests/fixtures/parse", "--json"]);
    assert!(scored.status.success(), "{}", String::from_utf8_lossy(&scored.stderr));
    let scores: Value = serde_json::from_slice(&scored.stdout).unwrap();
    let by_file = |name: &str| scores.as_array().unwrap().iter().find(|s| s["file"] == name).cloned().unwrap();
    let columns = by_file("two-column.pdf");
    assert!(columns["textSimilarity"].as_f64().unwrap() > 0.95, "column by column: {columns}");
    assert_eq!(columns["headingRecall"], 1.0);
    let table = by_file("table.pdf");
    assert!(table["tableCellF1"].as_f64().unwrap() > 0.95, "{table}");

    let missing = lectern(&["parse", "tests/fixtures/parse/none.pdf"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.pdf"));
}

/// A DOCX with a picture of text (a scanned letter pasted into a report): the picture's words
/// are found, in the section where the picture is, and the document lists the image as OCRed.
#[tokio::test]
async fn images_inside_a_docx_and_on_a_slide_are_read_where_they_appear() {
    use std::io::Write;
    let app = spawn_app().await;
    let (token, _) = app.bootstrap().await;
    let kb = app.create("/v1/knowledge-bases", &token, "", json!({"name": "Reports"})).await;
    let picture = render(&shared_path("pdfs/pypdf__crazyones.pdf"), 1, 150);
    let body = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>
        <w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Appendix: the poster</w:t></w:r></w:p>
        <w:p><w:r><w:t>The poster from the reception wall is pasted below.</w:t></w:r></w:p>
        <w:p><w:r><w:drawing><a:graphic><a:graphicData><a:blip r:embed="rId7"/></a:graphicData></a:graphic></w:drawing></w:r></w:p>
        <w:p><w:r><w:t>It was photographed in March.</w:t></w:r></w:p></w:body></w:document>"#;
    let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/poster.png"/></Relationships>"#;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [
        ("[Content_Types].xml", b"<Types/>".as_slice()),
        ("word/document.xml", body.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/media/poster.png", picture.as_slice()),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    let docx = zip.finish().unwrap().into_inner();
    // A slide that is only a picture, as decks made of scans are.
    let ns = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let slide = format!(
        r#"<p:sld {ns}><p:cSld><p:spTree><p:pic><p:blipFill><a:blip r:embed="rId2"/></p:blipFill></p:pic></p:spTree></p:cSld></p:sld>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in [
        ("[Content_Types].xml", b"<Types/>".as_slice()),
        (
            "ppt/presentation.xml",
            format!(
                r#"<p:presentation {ns}><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>"#
            )
            .as_bytes(),
        ),
        (
            "ppt/_rels/presentation.xml.rels",
            br#"<Relationships><Relationship Id="rId1" Target="slides/slide1.xml"/></Relationships>"#.as_slice(),
        ),
        ("ppt/slides/slide1.xml", slide.as_bytes()),
        (
            "ppt/slides/_rels/slide1.xml.rels",
            br#"<Relationships><Relationship Id="rId2" Target="../media/scan.png"/></Relationships>"#.as_slice(),
        ),
        ("ppt/media/scan.png", picture.as_slice()),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    let pptx = zip.finish().unwrap().into_inner();
    let docs = ingest(&app, &token, &kb, vec![("report.docx", docx), ("scans.pptx", pptx)]).await;
    let deck = view(&docs, "scans.pptx");
    assert_eq!(
        (deck["status"].as_str(), deck["parse"]["ocrPages"][0]["page"].as_u64()),
        (Some("ready"), Some(1)),
        "{deck}"
    );
    assert_eq!(deck["parse"]["ocrPages"][0]["image"], "ppt/media/scan.png");
    let report = view(&docs, "report.docx");
    assert_eq!(report["status"], "ready", "{report}");
    assert_eq!(report["parse"]["ocrPages"][0]["image"], "word/media/poster.png", "{report}");
    let hits = lexical(&app, &token, &kb, "misfits rebels troublemakers").await;
    let in_report = hits.iter().find(|h| h["documentTitle"] == "report.docx").unwrap();
    assert_eq!(in_report["headings"], json!(["Appendix: the poster"]), "{in_report}");
    let in_deck = hits.iter().find(|h| h["documentTitle"] == "scans.pptx").unwrap();
    assert_eq!(in_deck["pages"], json!([1]), "the slide the picture is on");
}

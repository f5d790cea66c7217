//! OCR for scanned pages and images, with Tesseract's command-line program (Debian's
//! `tesseract-ocr`) and PDF pages rasterised by `pdftoppm` (`poppler-utils`). Both run as child
//! processes: a crash or a hang in them cannot take the server down, every run has a time
//! limit after which it is killed, and nothing is downloaded at run time (the language data
//! ships in Debian's `tesseract-ocr-<lang>` packages).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{DocumentKind, Limits, ParseError};

/// The OCR programs and how to run them.
#[derive(Debug, Clone)]
pub struct Ocr {
    pub tesseract: PathBuf,
    /// Rasterises PDF pages; without it only images are recognised.
    pub pdftoppm: Option<PathBuf>,
    /// Tesseract language codes joined by `+` (`eng+deu`).
    pub languages: String,
    pub page_timeout: Duration,
    /// Resolution PDF pages are rendered at (300 is Tesseract's sweet spot).
    pub dpi: u32,
}

/// What OCR read on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub text: String,
    /// Mean word confidence, 0–100.
    pub confidence: f32,
    pub words: usize,
}

impl Ocr {
    /// Finds the programs on `PATH`; None when Tesseract is not installed. Languages that are
    /// not installed are dropped (English is the fallback).
    pub fn locate(languages: &str, page_timeout: Duration, dpi: u32) -> Option<Self> {
        let tesseract = which("tesseract")?;
        let mut ocr =
            Self { tesseract, pdftoppm: which("pdftoppm"), languages: String::new(), page_timeout, dpi: dpi.max(72) };
        let wanted: Vec<String> =
            languages.split(['+', ',', ' ']).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        ocr.languages = ocr.usable_languages(&wanted).join("+");
        Some(ocr)
    }

    /// The installed ones among `wanted` (Tesseract codes), English when none is.
    pub fn usable_languages(&self, wanted: &[String]) -> Vec<String> {
        let installed = self.installed_languages();
        let mut usable: Vec<String> = Vec::new();
        for language in wanted {
            if installed.contains(language) && !usable.contains(language) {
                usable.push(language.clone());
            }
        }
        if usable.is_empty() {
            usable.push("eng".to_owned());
        }
        usable
    }

    /// The same programs, also reading `iso_languages` (ISO 639-1, as a knowledge base lists
    /// the languages detected in it) where their Tesseract data is installed.
    pub fn with_languages(&self, iso_languages: &[String]) -> Self {
        let mut wanted: Vec<String> = self.languages.split('+').map(str::to_owned).collect();
        wanted.extend(iso_languages.iter().filter_map(|l| tesseract_code(l)).map(str::to_owned));
        Self { languages: self.usable_languages(&wanted).join("+"), ..self.clone() }
    }

    fn installed_languages(&self) -> Vec<String> {
        let Ok(output) = Command::new(&self.tesseract).arg("--list-langs").stderr(Stdio::null()).output() else {
            return Vec::new();
        };
        String::from_utf8_lossy(&output.stdout).lines().skip(1).map(|l| l.trim().to_owned()).collect()
    }

    /// Recognises an image given as bytes (one embedded in a document), its size checked first.
    pub fn recognise_image(&self, bytes: &[u8], limits: &Limits) -> Result<Recognised, ParseError> {
        check_image(bytes, limits)?;
        self.start(bytes, DocumentKind::Png)?.recognise(None, limits)
    }

    /// Starts OCR on one document: its bytes are written once to a private directory.
    pub fn start(&self, bytes: &[u8], kind: DocumentKind) -> Result<Session, ParseError> {
        let dir = tempfile::tempdir().map_err(|e| ParseError::Ocr(format!("no scratch directory: {e}")))?;
        let input = dir.path().join(if kind == DocumentKind::Pdf { "input.pdf" } else { "input.img" });
        std::fs::write(&input, bytes).map_err(|e| ParseError::Ocr(format!("cannot write the scratch file: {e}")))?;
        Ok(Session { ocr: self.clone(), dir, input, kind })
    }
}

/// OCR of one document's pages, one at a time.
pub struct Session {
    ocr: Ocr,
    dir: tempfile::TempDir,
    input: PathBuf,
    kind: DocumentKind,
}

impl Session {
    pub fn recognise(&self, page: Option<u32>, limits: &Limits) -> Result<Recognised, ParseError> {
        let image = match (self.kind, page) {
            (DocumentKind::Pdf, Some(page)) => self.rasterise(page, limits)?,
            _ => self.input.clone(),
        };
        let base = self.dir.path().join("recognised");
        let mut command = Command::new(&self.ocr.tesseract);
        command.arg(&image).arg(&base).args(["-l", &self.ocr.languages, "--psm", "3", "tsv"]);
        // One thread per page: pages of other documents run side by side instead.
        command.env("OMP_THREAD_LIMIT", "1");
        run(command, self.ocr.page_timeout, "OCR")?;
        let tsv = std::fs::read_to_string(base.with_extension("tsv"))
            .map_err(|e| ParseError::Ocr(format!("Tesseract wrote no result: {e}")))?;
        Ok(from_tsv(&tsv))
    }

    /// Renders a PDF page to PNG at the configured resolution, cropped to the pixel limit (a
    /// poster-sized page is read in part rather than exhausting memory).
    fn rasterise(&self, page: u32, limits: &Limits) -> Result<PathBuf, ParseError> {
        let Some(pdftoppm) = &self.ocr.pdftoppm else {
            return Err(ParseError::Ocr("pdftoppm (poppler-utils) is not installed".to_owned()));
        };
        let side = (limits.max_pixels as f64).sqrt() as u64;
        let base = self.dir.path().join("page");
        let mut command = Command::new(pdftoppm);
        command
            .args(["-png", "-singlefile", "-r", &self.ocr.dpi.to_string()])
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .args(["-x", "0", "-y", "0", "-W", &side.to_string(), "-H", &side.to_string()])
            .arg(&self.input)
            .arg(&base);
        run(command, self.ocr.page_timeout, "rendering the page")?;
        Ok(base.with_extension("png"))
    }
}

/// Refuses images whose pixel count exceeds the limit before anything decodes them.
pub fn check_image(bytes: &[u8], limits: &Limits) -> Result<(), ParseError> {
    let size = imagesize::blob_size(bytes).map_err(|e| ParseError::Malformed(format!("the image: {e}")))?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 {
        return Err(ParseError::Malformed("the image has no pixels".to_owned()));
    }
    if width.saturating_mul(height) > limits.max_pixels {
        return Err(ParseError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    Ok(())
}

/// Runs a program with a time limit; killed when it is exceeded.
fn run(mut command: Command, timeout: Duration, what: &str) -> Result<(), ParseError> {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(|e| {
        ParseError::Ocr(format!("{what}: cannot start {}: {e}", command.get_program().to_string_lossy()))
    })?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(ParseError::Ocr(format!("{what} failed ({status})"))),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ParseError::Ocr(format!("{what} took longer than {} s", timeout.as_secs_f64())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(ParseError::Ocr(format!("{what}: {e}"))),
        }
    }
}

/// Text from Tesseract's TSV: words joined by spaces, lines by newlines, paragraphs and blocks
/// by blank lines; the confidence is the mean over recognised words.
fn from_tsv(tsv: &str) -> Recognised {
    let mut text = String::new();
    let mut last: Option<(&str, &str, &str)> = None;
    let (mut sum, mut words) = (0.0f64, 0usize);
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let word = cols[11].trim();
        let confidence: f64 = cols[10].parse().unwrap_or(-1.0);
        if word.is_empty() || confidence < 0.0 {
            continue;
        }
        let place = (cols[2], cols[3], cols[4]);
        match last {
            Some((block, paragraph, _)) if (block, paragraph) != (place.0, place.1) => text.push_str("\n\n"),
            Some((_, _, line)) if line != place.2 => text.push('\n'),
            Some(_) => text.push(' '),
            None => {}
        }
        last = Some(place);
        text.push_str(word);
        sum += confidence;
        words += 1;
    }
    let confidence = if words == 0 { 0.0 } else { (sum / words as f64) as f32 };
    Recognised { text: super::layout::join_hyphenated(&text), confidence, words }
}

/// Tesseract's code for an ISO 639-1 language.
fn tesseract_code(iso: &str) -> Option<&'static str> {
    Some(match iso {
        "en" => "eng",
        "de" => "deu",
        "fr" => "fra",
        "es" => "spa",
        "it" => "ita",
        "pt" => "por",
        "nl" => "nld",
        "da" => "dan",
        "sv" => "swe",
        "no" | "nb" => "nor",
        "fi" => "fin",
        "pl" => "pol",
        "cs" => "ces",
        "hu" => "hun",
        "ro" => "ron",
        "ru" => "rus",
        "uk" => "ukr",
        "el" => "ell",
        "tr" => "tur",
        "ar" => "ara",
        "he" => "heb",
        "ta" => "tam",
        "hi" => "hin",
        "zh" => "chi_sim",
        "ja" => "jpn",
        "ko" => "kor",
        _ => return None,
    })
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_become_lines_and_paragraphs_with_a_mean_confidence() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tInvoices\n\
            5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tare\n\
            5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\trecog-\n\
            5\t1\t1\t1\t3\t1\t0\t0\t1\t1\t60\tnised\n\
            4\t1\t1\t1\t3\t0\t0\t0\t1\t1\t-1\t\n\
            5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t100\tTotal\n";
        let found = from_tsv(tsv);
        assert_eq!(found.text, "Invoices are\nrecognised\n\nTotal");
        assert_eq!(found.words, 5);
        assert!((found.confidence - 80.0).abs() < 0.01);
    }

    #[test]
    fn pixel_bombs_are_refused_from_the_header_alone() {
        // A PNG header claiming 50,000 x 50,000 pixels, with no image data behind it.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend(50_000u32.to_be_bytes());
        png.extend(50_000u32.to_be_bytes());
        png.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let error = check_image(&png, &Limits::default()).unwrap_err();
        assert_eq!(error.to_string(), "the image is 50000 x 50000 pixels; the limit is 100000000 pixels");
    }

    #[test]
    fn a_program_that_hangs_is_killed_at_the_time_limit() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let started = Instant::now();
        let error = run(command, Duration::from_millis(300), "OCR").unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(error.to_string(), "OCR failed: OCR took longer than 0.3 s");
    }
}

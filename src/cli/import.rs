//! `lectern import PATH… --kb ID`: uploads files and folders to a knowledge base through the
//! REST API (so it works against any Lectern server), shows a progress bar while they are
//! ingested, and ends with a table of what succeeded and what failed and why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

pub struct ImportArgs {
    pub paths: Vec<PathBuf>,
    pub kb: String,
    pub url: String,
    pub api_key: String,
}

/// Every file under the given paths (folders recursively, hidden entries skipped), sorted.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    // Hidden entries inside a folder (.git, .DS_Store) are skipped; paths given by name never are.
    fn walk(path: &Path, out: &mut Vec<PathBuf>, named: bool) -> anyhow::Result<()> {
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden && !named {
            return Ok(());
        }
        if path.is_dir() {
            for entry in std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))? {
                walk(&entry?.path(), out, false)?;
            }
        } else if path.is_file() {
            out.push(path.to_path_buf());
        } else {
            bail!("{} does not exist", path.display());
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files, true)?;
    }
    files.sort();
    Ok(files)
}

/// One line of the summary.
struct Outcome {
    file: String,
    status: String,
    detail: String,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<bool> {
    let files = collect(&args.paths)?;
    if files.is_empty() {
        bail!("no files to import");
    }
    let base = args.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
    let bar = ProgressBar::new(files.len() as u64 * 2);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let mut outcomes = Vec::new();
    let mut jobs = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_owned();
        bar.set_message(format!("uploading {name}"));
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let url = format!("{base}/v1/knowledge-bases/{}/documents", args.kb);
        let response = crate::cli::retry::send_patiently(|| {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()));
            client.post(&url).bearer_auth(&args.api_key).multipart(form)
        })
        .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.as_u16() == 401 || status.as_u16() == 404 && outcomes.is_empty() && jobs.is_empty() {
            bail!("{}: {}", status, body["message"].as_str().unwrap_or("request refused"));
        }
        match body["job"]["id"].as_str() {
            Some(job) if status.is_success() => jobs.push((path.display().to_string(), job.to_owned())),
            _ => {
                bar.inc(1);
                outcomes.push(Outcome {
                    file: path.display().to_string(),
                    status: "rejected".into(),
                    detail: body["message"].as_str().unwrap_or("upload failed").to_owned(),
                });
            }
        }
        bar.inc(1);
    }
    for (file, job) in jobs {
        let name = Path::new(&file).file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let view = loop {
            let url = format!("{base}/v1/jobs/{job}");
            let view: Value =
                crate::cli::retry::send_patiently(|| client.get(&url).bearer_auth(&args.api_key)).await?.json().await?;
            bar.set_message(format!("{name}: {} {}%", view["stage"].as_str().unwrap_or(""), view["progress"]));
            if !matches!(view["status"].as_str(), Some("queued" | "running")) {
                break view;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let (status, detail) = match view["status"].as_str() {
            Some("succeeded") => ("ready".to_owned(), format!("{} chunks", view["total"])),
            Some(other) => (other.to_owned(), view["error"].as_str().unwrap_or("").to_owned()),
            None => ("unknown".to_owned(), String::new()),
        };
        outcomes.push(Outcome { file, status, detail });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let width = outcomes.iter().map(|o| o.file.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:<9}  detail", "file", "status");
    for o in &outcomes {
        println!("{:<width$}  {:<9}  {}", o.file, o.status, o.detail);
    }
    let ok = outcomes.iter().filter(|o| o.status == "ready").count();
    println!("{ok} of {} files imported", outcomes.len());
    Ok(ok == outcomes.len())
}

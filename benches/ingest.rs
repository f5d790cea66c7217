//! Ingestion throughput and where the time goes: `cargo bench --bench ingest`.
//!
//! Runs the real parsers, chunker, local embedding model, tantivy index and qdrant-edge store
//! over the shared corpus (../shared/data: PDFs and DOCX) and reports pages/s, chunks/s and
//! the overhead of everything but embedding as a fraction of the embedding time (the target
//! is < 15 %: the model should be the bottleneck).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that fails should stop loudly

use std::time::{Duration, Instant};

use lectern::engines::chunk::{chunk, ChunkConfig};
use lectern::engines::embed::{Embedder, LocalEmbedder, ModelFiles};
use lectern::engines::fulltext::{ChunkText, FulltextIndex};
use lectern::engines::parse::{detect, parse, Limits};
use lectern::engines::vectors::{EdgeStore, VectorPoint, VectorStore};
use lectern::platform::settings::{Overrides, Settings};
use uuid::Uuid;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
    let mut files = Vec::new();
    let manifest = std::fs::read_to_string(format!("{root}/pdfs/MANIFEST.tsv")).unwrap();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols[4] == "normal" {
            files.push((cols[0].to_owned(), std::fs::read(format!("{root}/pdfs/{}", cols[0])).unwrap()));
        }
    }
    for entry in std::fs::read_dir(format!("{root}/docs/docx")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "docx") {
            files.push((path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

#[tokio::main]
async fn main() {
    let settings = Settings::from_vars(&std::env::vars().collect(), &Overrides::default()).unwrap();
    let files = ModelFiles::from_settings(&settings);
    let started = Instant::now();
    let embedder = tokio::task::spawn_blocking(move || LocalEmbedder::load(&files))
        .await
        .unwrap()
        .expect("run .ci/setup-model first");
    let load = started.elapsed();
    let corpus = corpus();
    let bytes: usize = corpus.iter().map(|(_, b)| b.len()).sum();
    let dir = tempfile::tempdir().unwrap();
    let fulltext = FulltextIndex::open(&dir.path().join("search")).unwrap();
    let vectors = EdgeStore::open(&dir.path().join("vectors"), embedder.dimension()).unwrap();
    let (tenant, kb) = (Uuid::now_v7(), Uuid::now_v7());

    let (mut parse_time, mut chunk_time, mut embed_time, mut index_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut pages, mut chunks_total, mut documents) = (0u64, 0usize, 0usize);
    for (name, data) in &corpus {
        let t = Instant::now();
        let Ok(parsed) = detect(data, Some(name), None).and_then(|k| parse(data, k, &Limits::default())) else {
            continue;
        };
        parse_time += t.elapsed();
        documents += 1;
        pages += u64::from(parsed.pages.unwrap_or(1));

        let t = Instant::now();
        let pieces = chunk(&parsed, &ChunkConfig::default(), embedder.tokens());
        chunk_time += t.elapsed();
        chunks_total += pieces.len();

        let t = Instant::now();
        let embedded = embedder.embed(pieces.iter().map(|c| c.text.clone()).collect()).await.unwrap();
        embed_time += t.elapsed();

        let t = Instant::now();
        let document = Uuid::now_v7();
        let ids: Vec<Uuid> = pieces.iter().map(|_| Uuid::now_v7()).collect();
        let texts: Vec<ChunkText> = pieces
            .iter()
            .zip(&ids)
            .map(|(c, id)| ChunkText {
                chunk_id: *id,
                tenant_id: tenant,
                kb_id: kb,
                document_id: document,
                text: c.text.clone(),
                context: ChunkText::context_of(name, &c.headings),
            })
            .collect();
        fulltext.add(&texts).unwrap();
        let points = ids
            .iter()
            .zip(embedded)
            .map(|(id, vector)| VectorPoint {
                chunk_id: *id,
                tenant_id: tenant,
                kb_id: kb,
                document_id: document,
                vector,
            })
            .collect();
        vectors.upsert(points).await.unwrap();
        index_time += t.elapsed();
    }
    let total = parse_time + chunk_time + embed_time + index_time;
    let overhead = parse_time + chunk_time + index_time;
    println!(
        "corpus: {documents} documents, {pages} pages, {:.1} MB, {chunks_total} chunks (model load {:.2} s)",
        bytes as f64 / 1e6,
        load.as_secs_f64()
    );
    println!("{:<10} {:>9} {:>8}", "stage", "seconds", "share");
    for (stage, time) in [("parse", parse_time), ("chunk", chunk_time), ("embed", embed_time), ("index", index_time)] {
        println!("{stage:<10} {:>9.3} {:>7.1}%", time.as_secs_f64(), 100.0 * time.as_secs_f64() / total.as_secs_f64());
    }
    println!(
        "throughput: {:.1} pages/s, {:.1} chunks/s end to end; embedding alone {:.1} chunks/s",
        pages as f64 / total.as_secs_f64(),
        chunks_total as f64 / total.as_secs_f64(),
        chunks_total as f64 / embed_time.as_secs_f64()
    );
    println!(
        "overhead (parse + chunk + index) / embed = {:.3}  (target < 0.15)",
        overhead.as_secs_f64() / embed_time.as_secs_f64()
    );
}

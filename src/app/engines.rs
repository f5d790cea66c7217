//! The search and storage engines the knowledge pipeline writes to, opened at startup:
//! the lexical index (tantivy, or sparse vectors in a Qdrant server), the vector store
//! (qdrant-edge or a Qdrant server), the blob store, and the embedding model (loaded on first
//! use: it costs ~260 MB).

use std::path::Path;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::engines::blobs::BlobStore;
use crate::engines::embed::{BatchLimits, EmbedError, Embedder, LocalEmbedder, LocalOptions, ModelFiles};
use crate::engines::lexical::{FulltextIndex, LexicalIndex, QdrantLexical};
use crate::engines::rerank::{RerankConfig, RerankError, Reranker};
use crate::engines::vectors::{EdgeStore, QdrantStore, VectorStore};
use crate::platform::settings::Settings;

pub struct Engines {
    pub lexical: Arc<dyn LexicalIndex>,
    /// Public search over sites' published entries.
    pub site_index: Arc<crate::services::content::site_index::SiteIndex>,
    pub vectors: Arc<dyn VectorStore>,
    pub blobs: BlobStore,
    /// Vectors were written since the store was last optimized.
    pub vectors_dirty: std::sync::atomic::AtomicBool,
    /// Parses running at once: one per core, so that many documents can be in flight (their
    /// chunks share the model's calls) without parsing more than the machine can.
    pub parsing: Arc<tokio::sync::Semaphore>,
    /// Tesseract and pdftoppm when installed and `LECTERN_OCR` is on.
    pub ocr: Option<crate::engines::parse::ocr::Ocr>,
    /// Pages being recognised at once, apart from parsing (`LECTERN_OCR_WORKERS`).
    pub ocr_slots: Arc<tokio::sync::Semaphore>,
    model_files: ModelFiles,
    embed_options: LocalOptions,
    embedder: OnceCell<Arc<dyn Embedder>>,
    rerank_config: Option<RerankConfig>,
    reranker: OnceCell<Arc<dyn Reranker>>,
}

/// The vector size of the configured model, from its config.json (`hidden_size`), so the
/// vector store can be opened before the model is loaded.
fn model_dimension(files: &ModelFiles) -> usize {
    std::fs::read(files.dir.join("config.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|config| config.get("hidden_size").and_then(serde_json::Value::as_u64))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(384)
}

impl Engines {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let model_files = ModelFiles::from_settings(settings);
        let dimension = model_dimension(&model_files);
        let sites_dir = settings.data_dir.join("site-search");
        let site_index =
            tokio::task::spawn_blocking(move || crate::services::content::site_index::SiteIndex::open(&sites_dir))
                .await??;
        let (lexical, vectors): (Arc<dyn LexicalIndex>, Arc<dyn VectorStore>) = match &settings.qdrant_url {
            // Every node must search the same index: both live in the server.
            Some(url) => {
                let key = settings.qdrant_api_key.as_ref().map(|k| k.expose().clone());
                let name = &settings.qdrant_collection;
                let sparse_name = format!("{name}_bm25");
                let (lexical, vectors) = tokio::join!(
                    QdrantLexical::connect(url, key.clone(), &sparse_name),
                    QdrantStore::connect(url, key, name, dimension),
                );
                (Arc::new(lexical?), Arc::new(vectors?))
            }
            None => {
                let search_dir = settings.search_dir();
                let fulltext = tokio::task::spawn_blocking(move || FulltextIndex::open(&search_dir)).await??;
                let dir = settings.vectors_dir().join("chunks");
                let edge = tokio::task::spawn_blocking(move || EdgeStore::open(Path::new(&dir), dimension)).await??;
                (Arc::new(Arc::new(fulltext)), Arc::new(edge))
            }
        };
        Ok(Self {
            lexical,
            site_index: Arc::new(site_index),
            vectors,
            blobs: BlobStore::open(&settings.blob_location())?,
            vectors_dirty: std::sync::atomic::AtomicBool::new(true),
            parsing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
            ocr: settings
                .ocr
                .then(|| {
                    crate::engines::parse::ocr::Ocr::locate(
                        &settings.ocr_languages,
                        settings.ocr_page_timeout,
                        settings.ocr_dpi,
                    )
                })
                .flatten(),
            ocr_slots: Arc::new(tokio::sync::Semaphore::new(settings.ocr_workers)),
            model_files,
            embed_options: LocalOptions {
                limits: BatchLimits { max_texts: settings.embed_batch, token_budget: settings.embed_token_budget },
                memory_arena: settings.embed_memory_arena,
            },
            embedder: OnceCell::new(),
            rerank_config: settings.rerank.clone(),
            reranker: OnceCell::new(),
        })
    }

    /// The embedding model, loaded once on first use. A load failure is not remembered: once
    /// the operator installs the model, the next call succeeds.
    pub async fn embedder(&self) -> Result<Arc<dyn Embedder>, EmbedError> {
        self.embedder
            .get_or_try_init(|| async {
                let (files, options) = (self.model_files.clone(), self.embed_options);
                let loaded = tokio::task::spawn_blocking(move || LocalEmbedder::load_with(&files, options))
                    .await
                    .map_err(|e| EmbedError::Unavailable(e.to_string()))??;
                Ok::<Arc<dyn Embedder>, EmbedError>(Arc::new(loaded))
            })
            .await
            .cloned()
    }

    /// Whether a reranker is configured (it may still fail to load).
    pub fn has_reranker(&self) -> bool {
        self.rerank_config.is_some()
    }

    /// The reranker, opened once on first use; None when none is configured. As with the
    /// embedder, a failed load is tried again next time.
    pub async fn reranker(&self) -> Option<Result<Arc<dyn Reranker>, RerankError>> {
        let config = self.rerank_config.clone()?;
        let opened = self
            .reranker
            .get_or_try_init(|| async {
                let opened = tokio::task::spawn_blocking(move || crate::engines::rerank::open(&config))
                    .await
                    .map_err(|e| RerankError::Unavailable(e.to_string()))??;
                Ok::<Arc<dyn Reranker>, RerankError>(Arc::from(opened))
            })
            .await
            .cloned();
        Some(opened)
    }
}

//! Background jobs: the [`queue`] (rows claimed with a lease, safe to repeat), the [`worker`]
//! pool that runs them, and the [`view`] the API shows. The worker knows no domain: the
//! application gives it a [`worker::Runner`] with one handler per [`JobKind`].

pub mod queue;
pub mod view;
pub mod worker;

pub use queue::{cancel, claim, defer, enqueue, enqueue_at, fail, lease, next_attempt_delay, progress, succeed};
pub use view::JobView;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    IngestDocument,
    ReindexKb,
    /// A scheduled entry goes live at its `publishAt`.
    PublishEntry,
    /// A site's public search index is rebuilt from its published entries.
    ReindexSite,
    /// An analysis run extracts its documents.
    AnalyzeRun,
}

impl JobKind {
    pub const ALL: [JobKind; 5] =
        [Self::IngestDocument, Self::ReindexKb, Self::PublishEntry, Self::ReindexSite, Self::AnalyzeRun];

    /// The kind a stored row names; `None` for a kind this build does not know.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IngestDocument => "ingest_document",
            Self::ReindexKb => "reindex_kb",
            Self::PublishEntry => "publish_entry",
            Self::ReindexSite => "reindex_site",
            Self::AnalyzeRun => "analyze_run",
        }
    }
}

/// Why an attempt did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Retrying cannot help (a bad file, a missing model): the job fails at once.
    #[error("{0}")]
    Permanent(String),
    /// A later attempt may succeed (a busy database, an upstream down): retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// Someone cancelled the job while it ran; the queue already says so.
    #[error("cancelled")]
    Cancelled,
    /// The job put itself back in the queue ([`queue::defer`]): nothing is recorded.
    #[error("deferred: {0}")]
    Deferred(String),
}

impl JobError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    pub fn transient(message: impl std::fmt::Display) -> Self {
        Self::Transient(message.to_string())
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::transient(format!("database: {e}"))
    }
}

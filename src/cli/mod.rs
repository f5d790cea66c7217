//! The command line: `lectern [serve]`, `lectern migrate`, `lectern version`.

pub mod admin;
pub mod eval;
pub mod eval_parse;
pub mod import;
pub mod parse;
pub mod retry;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::platform::settings::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "lectern",
    version,
    about = "Lectern: a self-hostable, multi-tenant content and RAG platform",
    long_about = "Lectern: a self-hostable, multi-tenant content and RAG platform.\n\n\
        Settings come from defaults, then a .env file in the working directory, then the \
        environment, then these flags (each later source wins). See .env.example for every key."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Listen address [env: LECTERN_ADDR] [default: 127.0.0.1:8080]
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Directory for everything the server writes [env: LECTERN_DATA_DIR] [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [env: DATABASE_URL] [default: SQLite file in the data dir]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format: pretty or json [env: LOG_FORMAT]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default). Migrations run at startup; SIGTERM/SIGINT stop it
    /// gracefully.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the version and exit.
    Version,
    /// Rebuild the search and vector indexes from the chunk rows in the database (re-embedding
    /// the text). Stop the server first: the indexes take a writer lock.
    Reindex {
        /// Only this knowledge base (its id); default: all.
        #[arg(long, value_name = "ID")]
        kb: Option<uuid::Uuid>,
    },
    /// Upload files and folders to a knowledge base through a server's API, with a progress
    /// bar and a summary of what succeeded and why anything failed (exit code 1 then).
    Import {
        /// Files or folders (read recursively).
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// The knowledge base's id.
        #[arg(long)]
        kb: String,
        /// The server [env: LECTERN_URL] [default: http://127.0.0.1:8080]
        #[arg(long, env = "LECTERN_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API key with kb.write [env: LECTERN_API_KEY]
        #[arg(long, env = "LECTERN_API_KEY", hide_env_values = true)]
        api_key: String,
    },
    /// Measure retrieval on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv):
    /// a temporary server ingests the corpus through the real pipeline and answers every
    /// query through the search API; prints nDCG@10, Recall@100, MRR@10 and timings per mode.
    Eval {
        /// The dataset's directory.
        #[arg(long, value_name = "DIR", required_unless_present_any = ["file", "qa"])]
        dataset: Option<std::path::PathBuf>,
        /// A question-answering set in SQuAD's JSON format instead of a dataset: its paragraphs
        /// are ingested, the search modes measured, and every answerable question asked through
        /// the chat API (exact match, token F1, citation precision).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["dataset", "file"])]
        qa: Option<std::path::PathBuf>,
        /// The chat model that answers the QA questions (default: the server's).
        #[arg(long, value_name = "NAME", requires = "qa")]
        model: Option<String>,
        /// Ingest this file instead of a dataset (repeatable): throughput on real documents,
        /// such as one large PDF; no queries are run.
        #[arg(long, value_name = "FILE", conflicts_with = "dataset")]
        file: Vec<std::path::PathBuf>,
        /// Only this mode (repeatable); default: lexical, semantic and hybrid.
        #[arg(long, value_enum)]
        mode: Vec<EvalMode>,
        /// The qrels split to evaluate.
        #[arg(long, default_value = "test")]
        split: String,
        /// Evaluate only the first N judged queries.
        #[arg(long, value_name = "N")]
        queries: Option<usize>,
        /// Ingest only the first N corpus documents (quick throughput runs).
        #[arg(long, value_name = "N")]
        documents: Option<usize>,
        /// Write the chunk texts as JSON lines (the first 256 with their `/v1/embeddings`
        /// vector), to measure other engines on the same chunks.
        #[arg(long, value_name = "FILE")]
        export_chunks: Option<std::path::PathBuf>,
        /// Keep vectors and lexical search on this Qdrant server (gRPC URL) instead of
        /// qdrant-edge and tantivy, in collections of the run's own, dropped afterwards.
        #[arg(long, value_name = "URL")]
        qdrant_url: Option<String>,
        /// Also measure this retrieval variant (repeatable) in every mode it affects, on the
        /// same ingestion: `document-scoring` ranks lexical hits by document instead of by chunk,
        /// `no-rerank` leaves the reranker out (with LECTERN_RERANK_MODEL or _URL set).
        #[arg(long, value_enum)]
        variant: Vec<crate::cli::eval::Variant>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print what the ingestion pipeline reads in a file (type, pages, heading paths, tables,
    /// OCRed pages) as Markdown or JSON, without a server.
    Parse {
        file: std::path::PathBuf,
        #[arg(long, value_enum, default_value = "markdown")]
        format: crate::cli::parse::ParseFormat,
        /// Tesseract languages for pages without a text layer (`eng+deu`).
        #[arg(long, default_value = "eng")]
        ocr_languages: String,
        /// Do not OCR (pages without a text layer stay empty).
        #[arg(long)]
        no_ocr: bool,
    },
    /// Score parsing against reference Markdown/text: every file in DIR with a reference in
    /// DIR/expected/ (`<stem>__*.md|txt`): text similarity, heading recall, table-cell F1 and
    /// seconds per page.
    EvalParse {
        #[arg(long, value_name = "DIR")]
        dataset: std::path::PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Administer users from the server's machine (no HTTP needed).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user. The password is read from standard input (one line), never from the
    /// command line, so it stays out of shell history and the process list.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the user a platform superadmin.
        #[arg(long)]
        superadmin: bool,
        /// Add the user to this tenant (its slug)…
        #[arg(long, value_name = "SLUG", requires = "role")]
        tenant: Option<String>,
        /// …with this role: owner, admin, editor, author or viewer.
        #[arg(long)]
        role: Option<String>,
    },
    /// Set a new password for a user (read from standard input) and end all their sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            addr: self.addr.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            log_format: self.log_format.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EvalMode {
    Lexical,
    Semantic,
    Hybrid,
}

impl From<EvalMode> for crate::services::search::Mode {
    fn from(mode: EvalMode) -> Self {
        match mode {
            EvalMode::Lexical => Self::Lexical,
            EvalMode::Semantic => Self::Semantic,
            EvalMode::Hybrid => Self::Hybrid,
        }
    }
}

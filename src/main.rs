use std::process::ExitCode;

use clap::Parser;
use lectern::app::Application;
use lectern::cli::eval::EvalOptions;
use lectern::cli::{Cli, Command};
use lectern::platform::settings::Settings;
use lectern::services::search::Mode;
use lectern::{engines::store, platform::telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Version = command {
        println!("lectern {}", lectern::VERSION);
        return ExitCode::SUCCESS;
    }
    if let Command::Parse { file, format, ocr_languages, no_ocr } = command {
        let languages = (!no_ocr).then_some(ocr_languages.as_str());
        let args = lectern::cli::parse::ParseArgs { file: &file, format, ocr_languages: languages };
        return match lectern::cli::parse::run(&args) {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::EvalParse { dataset, json } = command {
        return match lectern::cli::eval_parse::run(&dataset) {
            Ok(scores) if json => {
                println!("{}", serde_json::to_string_pretty(&scores).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Ok(scores) => {
                print!("{}", lectern::cli::eval_parse::table(&scores));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Import { paths, kb, url, api_key } = command {
        return import(lectern::cli::import::ImportArgs { paths, kb, url, api_key });
    }
    if let Command::Eval {
        dataset,
        qa,
        model,
        file,
        mode,
        split,
        queries,
        documents,
        export_chunks,
        qdrant_url,
        variant,
        json,
    } = command
    {
        let modes = if mode.is_empty() { Mode::ALL.to_vec() } else { mode.into_iter().map(Mode::from).collect() };
        let options = EvalOptions {
            dataset,
            files: file,
            modes,
            split,
            max_queries: queries,
            max_documents: documents,
            export_chunks,
            qdrant_url,
            variants: variant,
            qa,
            model,
        };
        return eval(options, json);
    }
    let settings = match Settings::load(&cli.global.overrides()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format, &settings.log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate => migrate(settings).await,
            Command::Admin(admin) => administer(settings, admin).await,
            Command::Reindex { kb } => reindex(settings, kb).await,
            _ => serve(settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "exiting");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(
        version = lectern::VERSION,
        database = settings.database_backend.name(),
        data_dir = %settings.data_dir.display(),
        "starting lectern"
    );
    let host = settings.addr.ip();
    let app = Application::build(settings).await?;
    tracing::info!(addr = %format!("{host}:{}", app.port()), "listening");
    app.run_until_stopped().await
}

async fn administer(settings: Settings, command: lectern::cli::AdminCommand) -> anyhow::Result<()> {
    let jwt = lectern::services::identity::keys::load_jwt_keys(&settings)?;
    let db = store::connect(&settings).await?;
    let mailer = lectern::app::context::mailer_from(&settings)?;
    let ctx = lectern::app::context::AppContext::new(std::sync::Arc::new(settings), db, jwt, mailer)?;
    let result = lectern::cli::admin::run(&ctx, command).await;
    ctx.db.close_by_ref().await.ok();
    result
}

/// A client command: no settings, no database, just the API.
fn import(args: lectern::cli::import::ImportArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(lectern::cli::import::run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn reindex(settings: Settings, kb: Option<uuid::Uuid>) -> anyhow::Result<()> {
    let jwt = lectern::services::identity::keys::load_jwt_keys(&settings)?;
    let db = store::connect(&settings).await?;
    store::migrate(&db).await?;
    let engines = lectern::app::engines::Engines::open(&settings)
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}; if the server is running, stop it first (the indexes are locked)"))?;
    let mailer = lectern::app::context::mailer_from(&settings)?;
    let ctx = lectern::app::context::AppContext::new(std::sync::Arc::new(settings), db, jwt, mailer)?;
    let written = lectern::services::knowledge::repair::rebuild(&ctx, &engines, kb, |done, total| {
        eprintln!("reindexed {done}/{total} documents")
    })
    .await?;
    let totals = lectern::services::knowledge::repair::totals(&ctx, &engines).await?;
    println!(
        "rebuilt {written} chunks; the database holds {}, the full-text index {}, the vector store {}",
        totals.rows, totals.fulltext, totals.vectors
    );
    ctx.db.close_by_ref().await.ok();
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = store::connect(&settings).await?;
    let applied = store::migrate(&db).await?;
    println!("applied {applied} migration(s); the {} database is up to date", settings.database_backend.name());
    db.close().await?;
    Ok(())
}

/// Runs its own throwaway server; logs only errors unless RUST_LOG says otherwise.
fn eval(options: EvalOptions, json: bool) -> ExitCode {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "error".to_owned());
    telemetry::init(lectern::platform::settings::LogFormat::Pretty, &filter);
    match lectern::cli::eval::run(&options) {
        Ok(report) if json => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
        Ok(report) => {
            print!("{}", lectern::cli::eval::render(&report));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

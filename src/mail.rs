//! Outgoing mail behind a small trait. The default writes the message to the log, so a
//! single-node install works without an SMTP server; an SMTP mailer plugs in later.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: Mail) -> anyhow::Result<()>;
}

/// Logs recipient and subject only: bodies carry secrets (invite and reset links).
#[derive(Debug, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        tracing::info!(to = %mail.to, subject = %mail.subject, "mail (log-only mailer; configure SMTP to deliver)");
        Ok(())
    }
}

//! `lectern admin …`: user administration from the server's machine.

use std::io::BufRead;

use anyhow::{bail, Context};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use entity::{tenant, user};

use crate::app::context::AppContext;
use crate::cli::AdminCommand;
use crate::services::audit::{self, Actor, Target};
use crate::services::identity::accounts::{add_membership, create_user, parse_email, set_password};
use crate::services::identity::permissions::Role;

/// Reads one line (the password) from standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input; pipe it in, e.g. `printf '%s' \"$PW\" | lectern admin …`");
    }
    Ok(password)
}

pub async fn run(ctx: &AppContext, command: AdminCommand) -> anyhow::Result<()> {
    crate::engines::store::migrate(&ctx.db).await?;
    match command {
        AdminCommand::CreateUser { email, name, superadmin, tenant, role } => {
            let password = read_password()?;
            let role: Option<Role> = role.map(|r| r.parse()).transpose().map_err(anyhow::Error::msg)?;
            let txn = ctx.db.begin().await?;
            let user = create_user(&txn, &email, &name, &password, superadmin).await.map_err(describe)?;
            if let (Some(slug), Some(role)) = (tenant, role) {
                let tenant = tenant::Entity::find()
                    .filter(tenant::Column::Slug.eq(&slug))
                    .one(&txn)
                    .await?
                    .with_context(|| format!("no tenant with slug `{slug}`"))?;
                add_membership(&txn, tenant.id, user.id, role, None).await.map_err(describe)?;
            }
            audit::record(
                &txn,
                &Actor::system(),
                "user.create",
                Target::new("user", user.id),
                serde_json::json!({ "via": "cli" }),
            )
            .await?;
            txn.commit().await?;
            println!("created user {} ({})", user.email, user.id);
        }
        AdminCommand::ResetPassword { email } => {
            let email = parse_email("email", &email).map_err(describe)?;
            let user = user::Entity::find()
                .filter(user::Column::Email.eq(&email))
                .one(&ctx.db)
                .await?
                .with_context(|| format!("no user with email {email}"))?;
            let password = read_password()?;
            set_password(ctx, &user, &password, &Actor::system()).await.map_err(describe)?;
            println!("password changed for {email}; all their sessions have ended");
        }
    }
    Ok(())
}

/// The user-facing message of a service error.
fn describe(error: crate::error::ApiError) -> anyhow::Error {
    match error {
        crate::error::ApiError::Internal(e) => e,
        other => anyhow::anyhow!(other.public_parts().0),
    }
}

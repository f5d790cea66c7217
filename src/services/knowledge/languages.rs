//! The languages a knowledge base's text is stemmed in. Each chunk is stemmed in its detected
//! language when it is indexed (`engines::analysis`); the knowledge base lists every language
//! that occurred, so a search stems the query in each of them and finds the chunk either way.
//! The list only grows: a language whose last document was deleted costs a few extra query
//! terms, never a missed hit.

use std::collections::BTreeSet;

use sea_orm::sea_query::{BinOper, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use entity::knowledge_base;

use crate::engines::language;

fn listed(column: &str) -> impl Iterator<Item = &'static str> + '_ {
    column.split(',').filter_map(language::of_locale).filter(|code| *code != language::ENGLISH)
}

/// English and the languages recorded for a knowledge base.
pub fn of_kb(kb: &knowledge_base::Model) -> Vec<&'static str> {
    std::iter::once(language::ENGLISH).chain(listed(&kb.languages)).collect()
}

/// The languages recorded for some of a tenant's knowledge bases, each once.
pub async fn of_kbs(db: &impl ConnectionTrait, tenant_id: Uuid, kb_ids: &[Uuid]) -> Result<Vec<String>, DbErr> {
    let rows: Vec<String> = knowledge_base::Entity::find()
        .select_only()
        .column(knowledge_base::Column::Languages)
        .filter(knowledge_base::Column::TenantId.eq(tenant_id))
        .filter(knowledge_base::Column::Id.is_in(kb_ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let codes: BTreeSet<&'static str> = rows.iter().flat_map(|r| listed(r)).collect();
    Ok(codes.into_iter().map(str::to_owned).collect())
}

/// The languages other than English detected in `texts`.
pub async fn detect(texts: Vec<String>) -> BTreeSet<&'static str> {
    tokio::task::spawn_blocking(move || {
        texts.iter().filter_map(|t| language::detect(t)).filter(|code| *code != language::ENGLISH).collect()
    })
    .await
    .unwrap_or_default()
}

/// Adds languages to a knowledge base's list. Each is one conditional append, so documents
/// indexed at the same time cannot drop each other's languages.
pub async fn record(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    kb_id: Uuid,
    codes: &BTreeSet<&'static str>,
) -> Result<(), DbErr> {
    for code in codes {
        knowledge_base::Entity::update_many()
            .col_expr(
                knowledge_base::Column::Languages,
                Expr::col(knowledge_base::Column::Languages).binary(BinOper::Custom("||"), format!(",{code}")),
            )
            .filter(knowledge_base::Column::TenantId.eq(tenant_id))
            .filter(knowledge_base::Column::Id.eq(kb_id))
            // Codes are two letters, so ",de" is never the start of another code.
            .filter(knowledge_base::Column::Languages.not_like(format!("%,{code}%")))
            .exec(db)
            .await?;
    }
    Ok(())
}

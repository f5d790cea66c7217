//! What every save of an entry does inside its transaction: check the data against the type
//! and the site (referenced media, entries and elements exist; unique fields are unique),
//! record a revision, refresh the reference rows, and share non-localized field values with
//! the other locale variants.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::{Map, Value};
use uuid::Uuid;

use entity::{element, entry, entry_ref, entry_revision, media};

use crate::error::ApiResult;
use crate::services::audit::Actor;
use crate::services::content::fields::{self, Checked, FieldDef, FieldError, RefKind};

/// Validates `data` for an entry of `type_api_id` in `site_id`/`locale` (`self_id` when it
/// exists already). Every problem is reported in one 400.
#[allow(clippy::too_many_arguments)]
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    site_id: Uuid,
    content_type_id: Uuid,
    locale: &str,
    self_id: Option<Uuid>,
    defs: &[FieldDef],
    data: &Value,
) -> ApiResult<Checked> {
    let checked = fields::validate(defs, data).map_err(fields::invalid_data)?;
    let mut errors = missing_references(conn, tenant_id, site_id, defs, &checked).await?;
    errors.extend(duplicates(conn, site_id, content_type_id, locale, self_id, defs, &checked).await?);
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(fields::invalid_data(errors))
    }
}

async fn missing_references<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    site_id: Uuid,
    defs: &[FieldDef],
    checked: &Checked,
) -> ApiResult<Vec<FieldError>> {
    let ids = |kind: RefKind| -> Vec<Uuid> {
        checked
            .references
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let media_ids = ids(RefKind::Media);
    let found_media: Vec<Uuid> = if media_ids.is_empty() {
        Vec::new()
    } else {
        media::Entity::find()
            .select_only()
            .column(media::Column::Id)
            .filter(media::Column::TenantId.eq(tenant_id))
            .filter(media::Column::SiteId.eq(site_id))
            .filter(media::Column::Id.is_in(media_ids))
            .into_tuple()
            .all(conn)
            .await?
    };
    let element_ids = ids(RefKind::Element);
    let found_elements: Vec<Uuid> = if element_ids.is_empty() {
        Vec::new()
    } else {
        element::Entity::find()
            .select_only()
            .column(element::Column::Id)
            .filter(element::Column::TenantId.eq(tenant_id))
            .filter(element::Column::SiteId.eq(site_id))
            .filter(element::Column::Id.is_in(element_ids))
            .into_tuple()
            .all(conn)
            .await?
    };
    let entry_ids = ids(RefKind::Entry);
    let found_entries: Vec<(Uuid, String)> = if entry_ids.is_empty() {
        Vec::new()
    } else {
        entry::Entity::find()
            .select_only()
            .column(entry::Column::Id)
            .column(entry::Column::TypeApiId)
            .filter(entry::Column::TenantId.eq(tenant_id))
            .filter(entry::Column::SiteId.eq(site_id))
            .filter(entry::Column::Id.is_in(entry_ids))
            .into_tuple()
            .all(conn)
            .await?
    };
    let mut errors = Vec::new();
    for reference in &checked.references {
        let message = match reference.kind {
            RefKind::Media if !found_media.contains(&reference.id) => format!("no media {} in this site", reference.id),
            RefKind::Element if !found_elements.contains(&reference.id) => {
                format!("no element {} in this site", reference.id)
            }
            RefKind::Entry => match found_entries.iter().find(|(id, _)| *id == reference.id) {
                None => format!("no entry {} in this site", reference.id),
                Some((_, type_api_id)) => {
                    let allowed = defs
                        .iter()
                        .find(|f| f.name == reference.field)
                        .map(|f| f.reference_types.clone())
                        .unwrap_or_default();
                    if allowed.is_empty() || allowed.contains(type_api_id) {
                        continue;
                    }
                    format!("entry {} is a `{type_api_id}`; allowed: {}", reference.id, allowed.join(", "))
                }
            },
            _ => continue,
        };
        errors.push(FieldError::new(&reference.field, message));
    }
    Ok(errors)
}

async fn duplicates<C: ConnectionTrait>(
    conn: &C,
    site_id: Uuid,
    content_type_id: Uuid,
    locale: &str,
    self_id: Option<Uuid>,
    defs: &[FieldDef],
    checked: &Checked,
) -> ApiResult<Vec<FieldError>> {
    let unique: Vec<(&FieldDef, String)> = defs
        .iter()
        .filter(|f| f.unique)
        .filter_map(|f| checked.data.get(&f.name).and_then(fields::unique_key).map(|k| (f, k)))
        .collect();
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let mut others = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .column(entry::Column::Data)
        .filter(entry::Column::SiteId.eq(site_id))
        .filter(entry::Column::ContentTypeId.eq(content_type_id))
        .filter(entry::Column::Locale.eq(locale));
    if let Some(id) = self_id {
        others = others.filter(entry::Column::Id.ne(id));
    }
    let others: Vec<(Uuid, Value)> = others.into_tuple().all(conn).await?;
    let mut errors = Vec::new();
    for (field, key) in unique {
        let clash =
            others.iter().find(|(_, data)| data.get(&field.name).and_then(fields::unique_key).as_ref() == Some(&key));
        if let Some((other, _)) = clash {
            errors.push(FieldError::new(&field.name, format!("must be unique; entry {other} has the same value")));
        }
    }
    Ok(errors)
}

/// What differs between two versions of an entry: `title`, `slug`, `tags`, `status` and the
/// names of changed fields.
pub fn changes(before: Option<&entry::Model>, after: &entry::Model) -> Vec<String> {
    let Some(before) = before else { return vec!["created".to_owned()] };
    let mut changed = Vec::new();
    for (name, differs) in [
        ("title", before.title != after.title),
        ("slug", before.slug != after.slug),
        ("tags", before.tags != after.tags),
        ("status", before.status != after.status),
    ] {
        if differs {
            changed.push(name.to_owned());
        }
    }
    let empty = Map::new();
    let (old, new) = (before.data.as_object().unwrap_or(&empty), after.data.as_object().unwrap_or(&empty));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    changed.extend(keys.into_iter().filter(|k| old.get(*k) != new.get(*k)).cloned());
    changed
}

/// Stores `after` as the revision numbered `after.revision`.
pub async fn write_revision<C: ConnectionTrait>(
    conn: &C,
    before: Option<&entry::Model>,
    after: &entry::Model,
    actor: &Actor,
    note: Option<String>,
) -> ApiResult<()> {
    entry_revision::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(after.tenant_id),
        entry_id: Set(after.id),
        number: Set(after.revision),
        title: Set(after.title.clone()),
        slug: Set(after.slug.clone()),
        status: Set(after.status.clone()),
        data: Set(after.data.clone()),
        tags: Set(after.tags.clone()),
        actor: Set(match &actor.id {
            Some(id) => format!("{}:{id}", actor.kind.as_str()),
            None => actor.kind.as_str().to_owned(),
        }),
        note: Set(note),
        changed: Set(serde_json::json!(changes(before, after))),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Replaces the entry's reference rows with `checked`'s references.
pub async fn replace_refs<C: ConnectionTrait>(conn: &C, entry: &entry::Model, checked: &Checked) -> ApiResult<()> {
    entry_ref::Entity::delete_many().filter(entry_ref::Column::EntryId.eq(entry.id)).exec(conn).await?;
    let unique: BTreeSet<(RefKind, Uuid)> = checked.references.iter().map(|r| (r.kind, r.id)).collect();
    if unique.is_empty() {
        return Ok(());
    }
    let rows = unique.into_iter().map(|(kind, id)| entry_ref::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(entry.tenant_id),
        entry_id: Set(entry.id),
        kind: Set(kind.as_str().to_owned()),
        target_id: Set(id),
    });
    entry_ref::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// Copies the values of non-localized fields to the entry's other locale variants; returns the
/// variants changed.
pub async fn share_unlocalized<C: ConnectionTrait>(
    conn: &C,
    entry: &entry::Model,
    defs: &[FieldDef],
) -> ApiResult<Vec<entry::Model>> {
    let shared: Vec<&FieldDef> = defs.iter().filter(|f| !f.localized).collect();
    if shared.is_empty() {
        return Ok(Vec::new());
    }
    let siblings = entry::Entity::find()
        .filter(entry::Column::TranslationGroup.eq(entry.translation_group))
        .filter(entry::Column::Id.ne(entry.id))
        .all(conn)
        .await?;
    let mut changed = Vec::new();
    for sibling in siblings {
        let mut data = sibling.data.as_object().cloned().unwrap_or_default();
        for field in &shared {
            match entry.data.get(&field.name) {
                Some(value) => data.insert(field.name.clone(), value.clone()),
                None => data.remove(&field.name),
            };
        }
        let data = Value::Object(data);
        if data != sibling.data {
            let mut active: entry::ActiveModel = sibling.into();
            active.data = Set(data);
            active.updated_at = Set(Utc::now());
            changed.push(active.update(conn).await?);
        }
    }
    Ok(changed)
}

//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/openapi.json`, with Swagger UI (vendored assets, no download) at `/docs`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorCode, OpenAiErrorBody};
use crate::http::routes::{
    analysis, api_keys, audit, auth, billing, chat, content_types, elements, entries, groups, health, jobs, knowledge,
    media, members, meta, oauth, openai, public, search, site_admin, sites, tenants, waitlist, webhooks, ws,
};
use crate::platform::health::{ComponentHealth, HealthReport, Status};
use crate::platform::paging::Pagination;
use crate::services::identity::permissions::{Permission, Role};
use crate::services::webhooks::events as ev;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lectern API",
        description = "Multi-tenant content and RAG platform. Every error has the body \
            `{\"error\": CODE, \"message\": ..., \"details\": ..., \"requestId\": ...}`; \
            see `GET /v1/errors` for the codes. Every response carries `X-Request-ID`. \
            Authenticate with `Authorization: Bearer <access token | API key>`; users with \
            several tenants choose one with `X-Tenant-ID`. POST, PUT, PATCH and DELETE accept an \
            `Idempotency-Key`: the first successful response is replayed for 24 hours \
            (`Idempotent-Replayed: true`); the same key with another request is a 409. \
            Requests are rate-limited per API key, user or IP and per class (auth, llm, rag, search, \
            ingest, public, global): `X-RateLimit-Limit`, `X-RateLimit-Remaining` and \
            `X-RateLimit-Reset` (seconds) on every limited response, and a 429 `RATE_LIMIT_EXCEEDED` \
            with `Retry-After`. Webhook deliveries carry `Lectern-Signature: t=<unix>,v1=<hex \
            HMAC-SHA256 of \"<t>.<body>\">` and `Lectern-Event-Id`; their bodies are `WebhookEnvelope` \
            with a `<Type>V1` payload in `data`.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        health::get_health, health::get_ready, meta::get_info, meta::list_error_codes,
        auth::get_setup_status, auth::post_setup, auth::post_login, auth::post_refresh, auth::post_logout,
        auth::get_me, auth::patch_me, auth::post_password, auth::get_my_permissions, auth::get_auth_test,
        auth::get_invite, auth::post_accept_invite, auth::list_roles, auth::post_signup, auth::post_password_reset,
        auth::post_password_reset_confirm, oauth::list_providers, oauth::start_login, oauth::finish_login, waitlist::list_waitlist, waitlist::approve_signup, waitlist::reject_signup,
        tenants::list_tenants, tenants::create_tenant, tenants::get_tenant, tenants::update_tenant,
        tenants::delete_tenant, tenants::suspend_tenant, tenants::resume_tenant,
        sites::list_sites, sites::create_site, sites::get_site, sites::update_site, sites::delete_site,
        members::list_members, members::update_member, members::remove_member,
        members::list_invites, members::create_invite, members::revoke_invite,
        groups::list_groups, groups::create_group, groups::get_group, groups::update_group, groups::delete_group,
        groups::add_group_member, groups::remove_group_member,
        api_keys::list_api_keys, api_keys::create_api_key, api_keys::get_api_key, api_keys::update_api_key,
        api_keys::revoke_api_key,
        knowledge::list_kbs, knowledge::create_kb, knowledge::get_kb, knowledge::update_kb, knowledge::delete_kb,
        knowledge::list_documents, knowledge::add_documents, knowledge::get_document, knowledge::update_document,
        knowledge::delete_document, knowledge::list_chunks, knowledge::get_content, knowledge::reindex_document, knowledge::reindex_kb,
        jobs::list_jobs, jobs::get_job, jobs::cancel_job, jobs::job_events,
        search::search_kb, search::search_all, search::query_kb,
        chat::list_conversations, chat::create_conversation, chat::get_conversation, chat::delete_conversation,
        chat::list_messages, chat::update_conversation, chat::retitle, chat::branch, chat::chat, chat::cancel, chat::feedback,
        chat::list_assistants, chat::create_assistant, chat::get_assistant, chat::update_assistant,
        chat::delete_assistant, chat::duplicate_assistant,
        public::visitor_chat, ws::connect,
        content_types::list_types, content_types::create_type, content_types::get_type, content_types::update_type,
        content_types::delete_type,
        entries::list_entries, entries::create_entry, entries::get_entry, entries::update_entry, entries::delete_entry,
        entries::publish_entry, entries::unpublish_entry, entries::duplicate_entry, entries::list_revisions,
        entries::get_revision, entries::restore_revision, entries::list_translations, entries::create_translation,
        entries::missing_translations,
        elements::list_elements, elements::create_element, elements::get_element, elements::update_element,
        elements::element_usage, elements::delete_element,
        media::list_media, media::upload_media, media::get_media, media::update_media, media::replace_media,
        media::media_usage, media::delete_media, media::list_folders, media::create_folder, media::update_folder,
        media::delete_folder,
        site_admin::reindex_site, site_admin::search_analytics, site_admin::site_stats, site_admin::list_contacts,
        site_admin::update_contact,
        public::public_list_entries, public::public_get_entry, public::public_get_media, public::public_search,
        public::public_suggest, public::public_search_click, public::public_contact_form, public::public_page_view,
        audit::list_audit_events, audit::export_audit_events, audit::list_platform_audit_events,
        billing::get_balance, billing::list_transactions, billing::export_transactions, billing::get_usage,
        billing::list_plans, billing::start_checkout, billing::open_portal, billing::stripe_webhook, billing::get_cost_settings,
        billing::put_cost_settings, billing::grant_credits, billing::get_billing_settings, billing::put_billing_settings,
        openai::list_models, openai::list_llm_providers, openai::chat_completions, openai::text_completions, openai::embeddings,
        webhooks::list_event_types, webhooks::list_webhooks, webhooks::create_webhook, webhooks::get_webhook,
        webhooks::update_webhook, webhooks::delete_webhook, webhooks::rotate_webhook_secret, webhooks::test_webhook,
        webhooks::list_deliveries, webhooks::replay_delivery,
        analysis::list_schemas, analysis::create_schema, analysis::get_schema, analysis::update_schema,
        analysis::delete_schema, analysis::create_run, analysis::upload_and_run, analysis::list_runs, analysis::get_run, analysis::export_json,
        analysis::export_csv, analysis::review_queue, analysis::review_result,
    ),
    components(schemas(ErrorBody, OpenAiErrorBody, ErrorCode, HealthReport, ComponentHealth, Status, Pagination, Permission, Role,
        ev::Envelope, ev::DocumentIngestedV1, ev::DocumentFailedV1, ev::JobCompletedV1, ev::EntryPublishedV1,
        ev::EntryUnpublishedV1, ev::CreditsLowV1, ev::ContactSubmittedV1, ev::ConversationCreatedV1,
        ev::AnalysisCompletedV1, ev::WebhookDisabledV1, ev::WebhookTestV1)),
    modifiers(&BearerAuth, &StandardResponses),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "meta", description = "What this server is and how it reports errors"),
        (name = "auth", description = "Setup, login, sessions, the caller's profile, invitations, roles"),
        (name = "tenants", description = "Tenants (platform superadmin)"),
        (name = "sites", description = "Sites of the tenant"),
        (name = "members", description = "Members and invitations"),
        (name = "api-keys", description = "API keys for integrators"),
        (name = "knowledge", description = "Knowledge bases, documents, chunks and ingestion jobs"),
        (name = "public", description = "For a site's visitors, without an account"),
        (name = "openai", description = "OpenAI-compatible gateway: models, chat completions, completions, embeddings"),
        (name = "chat", description = "Conversations, RAG chat turns (streamed), feedback and assistants"),
        (name = "search", description = "Lexical, semantic and hybrid search; context blocks for your own model"),
        (name = "content", description = "Content types, entries, publishing, revisions, translations, elements"),
        (name = "audit", description = "The audit log: every state change, who made it, from where"),
        (name = "billing", description = "Credits: balance, ledger, usage, prices, Stripe checkout and webhooks"),
        (name = "media", description = "The media library of a site: files, folders, alt text, image variants"),
        (name = "analysis", description = "Document analysis: extraction schemas, runs with evidence, human review, exports"),
        (name = "webhooks", description = "Signed outbound webhooks: endpoints, event types, deliveries, replays"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the paths refer to: a JWT access token or an `lk_…` API key.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /v1/auth/login, or an API key (lk_live_… / lk_test_…)"))
                    .build(),
            ),
        );
    }
}

/// The statuses every operation of a kind can answer with, whatever its handler documents: the
/// extractors, middleware and limits in front of every handler produce them. Added where an
/// operation does not document them itself, each with the error body.
struct StandardResponses;

impl StandardResponses {
    fn statuses(path: &str, method: &str, op: &utoipa::openapi::path::Operation) -> Vec<(&'static str, &'static str)> {
        let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
        let has_body = op.request_body.is_some();
        let has_path_params = path.contains('{');
        let mutating = matches!(method, "post" | "put" | "patch" | "delete");
        let mut statuses = vec![("400", "Invalid parameters or body; `details` names the field")];
        if secured {
            statuses.push(("401", "Missing, expired or invalid credentials"));
            statuses.push(("403", "The credentials lack the permission this needs, or the tenant is suspended"));
        }
        if secured || has_path_params {
            statuses.push(("404", "Not found, or it belongs to another tenant"));
        }
        if mutating {
            statuses
                .push(("409", "Conflicts with the current state, a concurrent change, or a reused Idempotency-Key"));
        }
        if has_body {
            statuses.push(("413", "The body is over the configured limit"));
            statuses.push(("415", "The Content-Type is not one this operation takes"));
        }
        if path.starts_with("/v1/") || path.starts_with("/public/") {
            statuses.push(("429", "Rate limit exceeded; retry after `Retry-After` seconds"));
        }
        statuses.push(("503", "Starting up, shutting down, or a dependency is down; retry later"));
        statuses
    }
}

/// One server-sent event as a stream carries it: the `event` name and its `data` (a JSON
/// document as text).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ServerSentEvent {
    event: Option<String>,
    data: String,
    id: Option<String>,
    retry: Option<u64>,
}

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        use utoipa::PartialSchema;
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert("ServerSentEvent".to_owned(), ServerSentEvent::schema());
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The OpenAI-compatible routes answer errors in OpenAI's shape.
            let error_schema = if crate::http::routes::openai::OPENAI_PATHS.contains(&path.as_str()) {
                "OpenAiErrorBody"
            } else {
                "ErrorBody"
            };
            let error = || ContentBuilder::new().schema(Some(Ref::from_schema_name(error_schema))).build();
            let operations = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                for (status, description) in Self::statuses(path, method, op) {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content("application/json", error())
                            .build()
                            .into()
                    });
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    if status.starts_with(['4', '5']) && response.content.contains_key("application/json") {
                        response.content.insert("application/json".to_owned(), error());
                    }
                    if let Some(stream) = response.content.get_mut("text/event-stream") {
                        stream.schema = Some(Ref::from_schema_name("ServerSentEvent").into());
                    }
                }
            }
        }
    }
}

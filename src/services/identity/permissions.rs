//! Roles and the fixed permission set. Roles map to permission sets here and nowhere else;
//! handlers state the permission they need through the `Require<P>` extractor.

use std::collections::BTreeSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! permissions {
    ($($variant:ident => $name:literal: $doc:literal),+ $(,)?) => {
        /// What a principal may do inside a tenant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Permission {
            $(#[doc = $doc] #[serde(rename = $name)] $variant),+
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name),+ }
            }
        }

        // Written by hand: the derive cannot read a serde rename that a macro passes in, and
        // named the variants (`TenantRead`) where the wire has `tenant.read`.
        impl utoipa::PartialSchema for Permission {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some("What a principal may do inside a tenant."))
                    .enum_values(Some([$($name),+]))
                    .into()
            }
        }

        impl ToSchema for Permission {}

        impl FromStr for Permission {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(Permission::$variant),)+
                    other => Err(format!("unknown permission `{other}`")),
                }
            }
        }
    };
}

permissions! {
    TenantRead => "tenant.read": "See the tenant's name and settings.",
    TenantManage => "tenant.manage": "Rename the tenant and change its settings.",
    SitesRead => "sites.read": "List and view sites.",
    SitesManage => "sites.manage": "Create, change and delete sites.",
    MembersRead => "members.read": "List members and roles.",
    MembersManage => "members.manage": "Invite, change roles of, limit and remove members.",
    ApiKeysManage => "api_keys.manage": "Create, change and revoke API keys.",
    ContentRead => "content.read": "Read entries, elements and content types.",
    ContentWrite => "content.write": "Create and edit entries and elements.",
    ContentWriteOwn => "content.write_own": "Create entries and edit one's own.",
    ContentPublish => "content.publish": "Publish, schedule and unpublish entries.",
    ContentTypesManage => "content_types.manage": "Define content types and their fields.",
    MediaRead => "media.read": "View the media library.",
    MediaWrite => "media.write": "Upload, change and delete media.",
    KbRead => "kb.read": "Search knowledge bases and read their documents.",
    KbWrite => "kb.write": "Create knowledge bases and upload documents.",
    ChatUse => "chat.use": "Chat with knowledge bases and use the LLM gateway.",
    AnalysisRun => "analysis.run": "Run document analysis and review results.",
    BillingRead => "billing.read": "See the balance, transactions and usage.",
    BillingManage => "billing.manage": "Buy credits and manage subscriptions.",
    WebhooksManage => "webhooks.manage": "Manage outbound webhook endpoints.",
    AuditRead => "audit.read": "Read and export the audit log.",
}

/// A tenant role. Ordered from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Editor,
    Author,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Admin, Role::Editor, Role::Author, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
            Self::Viewer => "viewer",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Owner => "Everything, including billing and the tenant itself.",
            Self::Admin => "Everything but billing management and the tenant's own settings.",
            Self::Editor => "Edits and publishes all content, manages media and knowledge bases.",
            Self::Author => "Writes own entries and uploads media; cannot publish.",
            Self::Viewer => "Reads content, searches and chats; changes nothing.",
        }
    }

    pub fn permissions(self) -> BTreeSet<Permission> {
        use Permission::*;
        let viewer = [TenantRead, SitesRead, ContentRead, MediaRead, KbRead, ChatUse];
        let author = [ContentWriteOwn, MediaWrite];
        let editor = [ContentWrite, ContentPublish, KbWrite, AnalysisRun, MembersRead];
        let admin =
            [SitesManage, MembersManage, ApiKeysManage, ContentTypesManage, WebhooksManage, AuditRead, BillingRead];
        let owner = [TenantManage, BillingManage];
        let layers: &[&[Permission]] = match self {
            Self::Viewer => &[&viewer],
            Self::Author => &[&viewer, &author],
            Self::Editor => &[&viewer, &author, &editor],
            Self::Admin => &[&viewer, &author, &editor, &admin],
            Self::Owner => &[&viewer, &author, &editor, &admin, &owner],
        };
        layers.iter().flat_map(|layer| layer.iter().copied()).collect()
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`; one of: owner, admin, editor, author, viewer"))
    }
}

/// Marker types that name a permission at the type level, for `Require<P>`.
pub mod require {
    use super::Permission;

    pub trait PermissionMarker {
        const PERMISSION: Permission;
    }

    macro_rules! markers {
        ($($marker:ident => $variant:ident),+ $(,)?) => {
            $(
                #[derive(Debug)]
                pub struct $marker;
                impl PermissionMarker for $marker {
                    const PERMISSION: Permission = Permission::$variant;
                }
            )+
        };
    }

    markers! {
        TenantRead => TenantRead,
        TenantManage => TenantManage,
        SitesRead => SitesRead,
        SitesManage => SitesManage,
        MembersRead => MembersRead,
        MembersManage => MembersManage,
        ApiKeysManage => ApiKeysManage,
        KbRead => KbRead,
        KbWrite => KbWrite,
        ChatUse => ChatUse,
        ContentRead => ContentRead,
        ContentWrite => ContentWrite,
        ContentPublish => ContentPublish,
        ContentTypesManage => ContentTypesManage,
        MediaRead => MediaRead,
        MediaWrite => MediaWrite,
        BillingRead => BillingRead,
        BillingManage => BillingManage,
        AuditRead => AuditRead,
        WebhooksManage => WebhooksManage,
        AnalysisRun => AnalysisRun,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_includes_every_permission_of_the_roles_below_it() {
        for pair in Role::ALL.windows(2) {
            assert!(pair[0].permissions().is_superset(&pair[1].permissions()), "{:?} ⊇ {:?}", pair[0], pair[1]);
            assert!(pair[0].permissions().len() > pair[1].permissions().len());
        }
        assert_eq!(Role::Owner.permissions().len(), Permission::ALL.len(), "owner has everything");
    }

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), *p);
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn the_openapi_schema_names_permissions_as_the_wire_does() {
        let schema = serde_json::to_value(<Permission as utoipa::PartialSchema>::schema()).unwrap();
        let wire: Vec<serde_json::Value> = Permission::ALL.iter().map(|p| serde_json::to_value(p).unwrap()).collect();
        assert_eq!(schema["enum"], serde_json::Value::Array(wire));
    }

    #[test]
    fn only_owners_manage_billing_and_only_admins_up_manage_members() {
        assert!(Role::Owner.permissions().contains(&Permission::BillingManage));
        assert!(!Role::Admin.permissions().contains(&Permission::BillingManage));
        assert!(Role::Admin.permissions().contains(&Permission::MembersManage));
        assert!(!Role::Editor.permissions().contains(&Permission::MembersManage));
        assert!(!Role::Author.permissions().contains(&Permission::ContentPublish));
    }
}

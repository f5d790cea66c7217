//! Helpers for identity tests: bootstrap, log in, make tenants with members of a given role.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::app::{json, TestApp};

pub const ADMIN_EMAIL: &str = "root@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Tenant {
    pub id: String,
    /// An access token of the tenant's owner.
    pub owner: String,
}

impl TestApp {
    /// Sends `method path` with a bearer token, an optional tenant and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        tenant: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(token);
        if let Some(tenant) = tenant {
            request = request.header("X-Tenant-ID", tenant);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request failed")
    }

    /// Bootstraps the platform; returns the superadmin's access token and the first tenant.
    pub async fn bootstrap(&self) -> (String, Tenant) {
        let response = self
            .post_json(
                "/v1/auth/setup",
                &json!({"email": ADMIN_EMAIL, "name": "Root Admin", "password": PASSWORD, "tenant": {"name": "First Tenant"}}).to_string(),
            )
            .await;
        assert_eq!(response.status(), 201, "setup");
        let body = json(response).await;
        let token = self.login(ADMIN_EMAIL, PASSWORD).await;
        let tenant_id = body["tenant"]["id"].as_str().unwrap().to_owned();
        (token.clone(), Tenant { id: tenant_id, owner: token })
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let response =
            self.post_json("/v1/auth/login", &json!({"email": email, "password": password}).to_string()).await;
        assert_eq!(response.status(), 200, "login of {email}");
        json(response).await["accessToken"].as_str().unwrap().to_owned()
    }

    /// Invites `email` into the tenant with `role` and accepts; returns the new user's token.
    pub async fn add_member(&self, tenant: &Tenant, email: &str, role: &str) -> String {
        let invite = self
            .call(
                Method::POST,
                "/v1/invites",
                &tenant.owner,
                Some(&tenant.id),
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(invite.status(), 201, "invite {email}");
        let token = json(invite).await["token"].as_str().unwrap().to_owned();
        let accepted = self
            .post_json(
                &format!("/v1/auth/invites/{token}/accept"),
                &json!({"name": "Member Person", "password": PASSWORD}).to_string(),
            )
            .await;
        assert_eq!(accepted.status(), 200, "accept invite of {email}");
        json(accepted).await["accessToken"].as_str().unwrap().to_owned()
    }

    /// A new tenant (made by the superadmin) with its own owner.
    pub async fn tenant_with_owner(&self, superadmin: &str, name: &str, owner_email: &str) -> Tenant {
        let created = self.call(Method::POST, "/v1/tenants", superadmin, None, Some(json!({"name": name}))).await;
        assert_eq!(created.status(), 201, "create tenant {name}");
        let id = json(created).await["id"].as_str().unwrap().to_owned();
        let admin_view = Tenant { id: id.clone(), owner: superadmin.to_owned() };
        let owner = self.add_member(&admin_view, owner_email, "owner").await;
        Tenant { id, owner }
    }

    /// Creates something with POST and returns its id.
    pub async fn create(&self, path: &str, token: &str, tenant: &str, body: Value) -> String {
        let tenant = (!tenant.is_empty()).then_some(tenant);
        let response = self.call(Method::POST, path, token, tenant, Some(body)).await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, 201, "POST {path}: {body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

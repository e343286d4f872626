//! Helpers for the Compliance API tests: password logins and Bearer requests.
#![allow(dead_code)]

use serde_json::Value;

use super::common::{Response, TestServer};

pub const PASSWORD: &str = "secret-password";

/// A user (made with `TestServer::create_user`, password `PASSWORD`) with the given
/// server-wide permissions.
pub async fn user_with(s: &TestServer, name: &str, site: bool, org: bool, users: bool) {
    s.create_user(name).await;
    let u = s.state.store.user_by_name(name).await.unwrap().unwrap();
    let perms = brigade::store::compliance::Permissions {
        site_admin: site,
        org_admin: org,
        user_admin: users,
    };
    s.state
        .store
        .set_user_permissions(&u.id, perms)
        .await
        .unwrap();
}

/// Logs in with a password as InSpec does (JSON sent as form-urlencoded); the token.
pub async fn login(s: &TestServer, name: &str) -> String {
    let r = s
        .client()
        .post(s.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(r#"{{"userid":"{name}","password":"{PASSWORD}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

pub async fn call(
    s: &TestServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Response {
    let mut req = s.client().request(method.parse().unwrap(), s.url(path));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    s.raw(req).await
}

pub async fn get(s: &TestServer, token: &str, path: &str) -> Response {
    call(s, Some(token), "GET", path, None).await
}

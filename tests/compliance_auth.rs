//! Compliance API: version, server detection under the prefix, password and refresh-token
//! logins, access tokens (missing, expired, tampered, revoked) and refresh tokens.

mod common;
mod compliance_common;

use common::TestServer;
use compliance_common::{call, get, login, user_with};
use serde_json::json;

#[tokio::test]
async fn version_and_server_detection() {
    let s = TestServer::start().await;
    for base in ["", "/chef-compliance"] {
        let r = call(&s, None, "GET", &format!("{base}/api/version"), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["api"], "chef-compliance");
        let v = r.body["version"].as_str().unwrap();
        let parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
        assert!(parts >= vec![0, 16, 19], "{v}");
    }
    // Under the prefix, InSpec's first two probes find nothing, so it picks Compliance.
    for probe in [
        "/chef-compliance/dex/auth",
        "/chef-compliance/compliance/version",
    ] {
        let r = call(&s, None, "GET", probe, None).await;
        assert_eq!(r.status, 404, "{probe}");
        assert_eq!(r.body["error"], "not found");
    }
    let r = call(&s, None, "GET", "/api/no/such/thing", None).await;
    assert_eq!(r.status, 404);
    assert!(r.body["message"].is_string());
}

#[tokio::test]
async fn password_login_gives_a_bare_access_token() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let token = login(&s, "alice").await;
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let r = get(&s, &token, "/api/users").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["login"] == "alice"));
    // Under the prefix too.
    assert_eq!(
        get(&s, &token, "/chef-compliance/api/users").await.status,
        200
    );

    for body in [
        json!({"userid": "alice", "password": "wrong-password"}),
        json!({"userid": "nobody", "password": "secret-password"}),
    ] {
        let r = call(&s, None, "POST", "/api/login", Some(&body)).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["error"], "unauthorized");
    }
    let r = call(&s, None, "POST", "/api/login", Some(&json!({"userid": 5}))).await;
    assert_eq!(r.status, 400);
    let r = s
        .raw(s.client().post(s.url("/api/login")).body("{not json"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "bad request");
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let token = login(&s, "alice").await;
    let r = call(&s, None, "GET", "/api/users", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(get(&s, &tampered, "/api/users").await.status, 401);
    assert_eq!(get(&s, "garbage", "/api/users").await.status, 401);

    // Signed with this server's secret but expired.
    let secret = s.state.compliance_secret().await.unwrap();
    let claims = brigade::auth::jwt::verify(&secret, &token).unwrap();
    let expired = brigade::auth::jwt::issue(&secret, &claims.sub, "alice", &claims.sid, -10);
    assert_eq!(get(&s, &expired, "/api/users").await.status, 401);
    // Signed with another secret.
    let foreign = brigade::auth::jwt::issue(
        b"another-secret-entirely-32-bytes",
        &claims.sub,
        "alice",
        &claims.sid,
        600,
    );
    assert_eq!(get(&s, &foreign, "/api/users").await.status, 401);
}

#[tokio::test]
async fn refresh_tokens_trade_list_and_revoke() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let token = login(&s, "alice").await;
    let r = call(
        &s,
        Some(&token),
        "POST",
        "/api/user/refresh_tokens",
        Some(&json!({"description": "ci"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let refresh = r.body["token"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = get(&s, &token, "/api/user/refresh_tokens").await;
    assert_eq!(r.body[0]["id"], id.as_str());
    assert_eq!(r.body[0]["description"], "ci");
    assert!(r.body[0].get("token").is_none(), "the secret is shown once");

    // Both trade routes, with curl's form content type.
    for path in ["/api/login", "/api/access_token"] {
        let r = s
            .raw(
                s.client()
                    .post(s.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!(r#"{{"token": "{refresh}"}}"#)),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let access = r.body["access_token"].as_str().unwrap();
        assert_eq!(get(&s, access, "/api/users").await.status, 200);
    }
    let r = call(
        &s,
        None,
        "POST",
        "/api/login",
        Some(&json!({"token": refresh})),
    )
    .await;
    let from_refresh = r.body["access_token"].as_str().unwrap().to_string();

    let r = call(
        &s,
        None,
        "DELETE",
        "/api/login",
        Some(&json!({"token": refresh})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "success"}));
    // Revoked: no new access tokens, and those it issued stop working.
    let r = call(
        &s,
        None,
        "POST",
        "/api/login",
        Some(&json!({"token": refresh})),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text,
        "unable to trade refresh token for access token with issuer: invalid_request"
    );
    assert_eq!(get(&s, &from_refresh, "/api/users").await.status, 401);
    assert_eq!(
        get(&s, &token, "/api/users").await.status,
        200,
        "the password session lives on"
    );
    let r = call(
        &s,
        None,
        "DELETE",
        "/api/login",
        Some(&json!({"token": refresh})),
    )
    .await;
    assert_eq!(r.status, 404);

    // Revoking by id through the user's own list.
    let r = call(&s, Some(&token), "POST", "/api/user/refresh_tokens", None).await;
    let id2 = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/user/refresh_tokens/{id2}");
    user_with(&s, "bob", false, false, false).await;
    let bob = login(&s, "bob").await;
    assert_eq!(
        call(&s, Some(&bob), "DELETE", &path, None).await.status,
        404,
        "not bob's"
    );
    assert_eq!(
        call(&s, Some(&token), "DELETE", &path, None).await.status,
        204
    );
}

#[tokio::test]
async fn a_new_password_ends_other_logins() {
    let s = TestServer::start().await;
    user_with(&s, "alice", false, false, false).await;
    let first = login(&s, "alice").await;
    let second = login(&s, "alice").await;
    let r = call(
        &s,
        Some(&second),
        "PATCH",
        "/api/users/alice",
        Some(&json!({"password": "a-new-password"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(get(&s, &first, "/api/users").await.status, 401);
    assert_eq!(get(&s, &second, "/api/users").await.status, 200);
    // The Infra API checks the same password.
    let r = s
        .post(
            &s.superuser,
            "/authenticate_user",
            &json!({"username": "alice", "password": "a-new-password"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

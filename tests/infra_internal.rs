//! Endpoints outside the object model and wire rules every route shares: system recovery,
//! signature validation, the retired controls endpoint, `/_status`, `X-Chef-Version`,
//! `Accept`, `Allow` on 405s and unknown `_identifiers` types.

mod common;

use brigade::auth::signed_header::SignVersion;
use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn system_recovery_is_for_flagged_users_and_the_superuser_only() {
    let s = TestServer::start().await;
    let body = json!({
        "username": "rescue", "email": "rescue@example.com", "display_name": "Rescue",
        "password": "secret-password", "recovery_authentication_enabled": true
    });
    assert_eq!(s.post(&s.superuser, "/users", &body).await.status, 201);
    let bob = s.create_user("bob").await;

    let login = json!({"username": "rescue", "password": "secret-password"});
    let r = s.post(&s.superuser, "/system_recovery", &login).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["username"], "rescue");
    assert_eq!(r.body["recovery_authentication_enabled"], true);
    assert!(r.body.get("public_key").is_none());

    let wrong = json!({"username": "rescue", "password": "nope-nope"});
    let r = s.post(&s.superuser, "/system_recovery", &wrong).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": ["Failed to authenticate: Username and password incorrect"]})
    );

    let r = s.post(&bob, "/system_recovery", &login).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body, json!({"error": ["missing create permission"]}));

    for user in ["bob", "nobody"] {
        let r = s
            .post(
                &s.superuser,
                "/system_recovery",
                &json!({"username": user, "password": "secret-password"}),
            )
            .await;
        assert_eq!(r.status, 403, "{user}");
        assert_eq!(
            r.body,
            json!({"error": ["System recovery disabled for this user"]})
        );
    }
    for (body, msg) in [
        (json!({"password": "x"}), "Field 'username' missing"),
        (json!({"username": "rescue"}), "Field 'password' missing"),
    ] {
        let r = s.post(&s.superuser, "/system_recovery", &body).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body, json!({ "error": [msg] }));
    }
}

#[tokio::test]
async fn validate_checks_a_signature_made_for_another_path() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let target = "/organizations/acme/nodes";
    let via = format!("/organizations/acme/validate{target}");
    for method in ["GET", "POST", "PUT", "DELETE"] {
        let body = (method != "GET").then(|| json!({"foo": "bar"}));
        let req = s.signed_request(
            &validator,
            method,
            target,
            &via,
            body.as_ref(),
            SignVersion::V1_1,
            "1",
        );
        let r = s.raw(req).await;
        assert_eq!(r.status, 200, "{method}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"requestor_name": "acme-validator", "requestor_type": "client"})
        );
    }
    // Signed for the path it is sent to, not the one it names: refused.
    let wrong = "/organizations/acme/validate/dog";
    let req = s.signed_request(
        &validator,
        "GET",
        target,
        wrong,
        None,
        SignVersion::V1_1,
        "1",
    );
    assert_eq!(s.raw(req).await.status, 401);
}

#[tokio::test]
async fn retired_and_unknown_routes() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    for r in [
        s.get(&s.superuser, "/organizations/acme/controls").await,
        s.post(&s.superuser, "/organizations/acme/controls", &json!({}))
            .await,
    ] {
        assert_eq!(r.status, 410);
        assert!(r.body["error"].is_string(), "{}", r.text);
    }
    let r = s
        .get(&s.superuser, "/organizations/acme/search/x/_identifiers")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": ["Unsupported object type: 'search'."]})
    );
    // Unsigned, like the rest of the principals endpoint.
    let r = s
        .raw(s.client().get(s.url("/organizations/acme/principals/")))
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn status_reports_live_dependencies() {
    let s = TestServer::start().await;
    let r = s.raw(s.client().get(s.url("/_status"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "pong");
    assert_eq!(r.body["upstreams"]["chef_sql"], "pong");
    assert!(r.body["keygen"]["max"].as_u64().unwrap() > 0);
    assert!(r.body["indexing"].is_object());
    assert!(r.body.get("server_version").is_none());
}

#[tokio::test]
async fn wire_rules_shared_by_every_route() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let path = "/organizations/acme/nodes";
    let s = &s;
    let send = |headers: Vec<(&'static str, &'static str)>| async move {
        let mut req = s
            .signed_request(
                &s.superuser,
                "GET",
                path,
                path,
                None,
                SignVersion::V1_1,
                "1",
            )
            .build()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(k, v.parse().unwrap());
        }
        let r = s.client().execute(req).await.unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        (status, body)
    };
    assert_eq!(send(vec![("X-Chef-Version", "18.5.0")]).await.0, 200);
    let (status, body) = send(vec![("X-Chef-Version", "9.0.1")]).await;
    assert_eq!(status, 400);
    assert!(body["error"].is_string());
    assert_eq!(send(vec![("Accept", "application/xml")]).await.0, 406);
    assert_eq!(send(vec![("Accept", "*/*")]).await.0, 200);

    let r = s
        .signed(
            &s.superuser,
            "PUT",
            "/organizations/acme/data",
            Some(&json!({})),
            SignVersion::V1_1,
            "1",
        )
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST"));

    // A trailing slash names the same resource (knife posts to `users/`).
    let r = s.get(&s.superuser, "/organizations/acme/nodes/").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&s.superuser, "/users/?email=x@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

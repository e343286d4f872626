//! Signed-header authentication and API version negotiation over real HTTP.

mod common;

use brigade::auth::signed_header::{self, SignVersion};
use common::{Actor, TestServer};
use serde_json::{json, Value};

fn error_list(v: &Value) -> Vec<String> {
    v["error"]
        .as_array()
        .expect("error list")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Sends a request with hand-made headers (for tampering).
async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    headers: Vec<(String, String)>,
    body: &str,
) -> common::Response {
    let mut req = s
        .client()
        .request(method.parse().unwrap(), s.url(path))
        .header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    s.raw(req.body(body.to_string())).await
}

fn sign(
    actor: &Actor,
    v: SignVersion,
    method: &str,
    path: &str,
    body: &str,
    ts: &str,
) -> Vec<(String, String)> {
    signed_header::sign(
        &actor.key,
        v,
        method,
        path,
        body.as_bytes(),
        &actor.name,
        ts,
        "0",
    )
    .unwrap()
}

fn now_ts() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[tokio::test]
async fn every_protocol_version_authenticates() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    for v in [SignVersion::V1_0, SignVersion::V1_1, SignVersion::V1_3] {
        let r = s
            .signed(&s.superuser, "GET", "/organizations/acme", None, v, "0")
            .await;
        assert_eq!(r.status, 200, "{v:?}: {}", r.text);
        assert_eq!(r.body["name"], "acme");
        let r = s
            .signed(&s.superuser, "GET", "/users/pivotal", None, v, "2")
            .await;
        assert_eq!(r.status, 200, "{v:?}: {}", r.text);
    }
}

#[tokio::test]
async fn missing_headers_are_400_and_list_what_is_missing() {
    let s = TestServer::start().await;
    let r = s.raw(s.client().get(s.url("/users/pivotal"))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error_list(&r.body),
        ["missing required authentication header(s) 'X-Ops-UserId', 'X-Ops-Timestamp', 'X-Ops-Sign', 'X-Ops-Content-Hash'"]
    );
    assert!(r.header("x-ops-server-api-version").is_some());

    let mut h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "GET",
        "/users/pivotal",
        "",
        &now_ts(),
    );
    h.retain(|(k, _)| !k.eq_ignore_ascii_case("x-ops-sign"));
    let r = send(&s, "GET", "/users/pivotal", h, "").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error_list(&r.body),
        ["missing required authentication header(s) 'X-Ops-Sign'"]
    );
}

#[tokio::test]
async fn tampered_body_wrong_key_and_unknown_actor_are_401() {
    let s = TestServer::start().await;
    let body = json!({"name": "acme", "full_name": "Acme"}).to_string();
    let mut h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "POST",
        "/organizations",
        &body,
        &now_ts(),
    );
    let r = send(
        &s,
        "POST",
        "/organizations",
        h.clone(),
        &body.replace("Acme", "Evil"),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        error_list(&r.body),
        ["Invalid signature for user or client 'pivotal'"]
    );
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with("X-Ops-Sign"));
    assert!(
        s.state.store.org_by_name("acme").await.unwrap().is_none(),
        "nothing may be written"
    );

    // The same for 1.3, where the body hash is part of the signed string.
    let h13 = sign(
        &s.superuser,
        SignVersion::V1_3,
        "POST",
        "/organizations",
        &body,
        &now_ts(),
    );
    let r = send(
        &s,
        "POST",
        "/organizations",
        h13,
        &body.replace("Acme", "Evil"),
    )
    .await;
    assert_eq!(r.status, 401);

    // A signature line replaced.
    for (k, v) in h.iter_mut() {
        if k.eq_ignore_ascii_case("x-ops-authorization-1") {
            *v = "epicfail".into();
        }
    }
    let r = send(&s, "POST", "/organizations", h, &body).await;
    assert_eq!(r.status, 401);

    let stranger = Actor::new(
        "pivotal",
        &brigade::auth::keygen::generate().await.unwrap().private_pem,
    );
    let r = s.get(&stranger, "/users/pivotal").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_list(&r.body),
        ["Invalid signature for user or client 'pivotal'"]
    );

    let nobody = Actor {
        name: "nobody".into(),
        ..stranger
    };
    let r = s.get(&nobody, "/users/pivotal").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_list(&r.body),
        ["Failed to authenticate as 'nobody'. Ensure that your node_name and client key are correct."]
    );
}

#[tokio::test]
async fn timestamps_outside_the_window_are_401() {
    let s = TestServer::start().await;
    for offset in [-1000i64, 1000] {
        let ts = (chrono::Utc::now() + chrono::Duration::seconds(offset))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let h = sign(
            &s.superuser,
            SignVersion::V1_1,
            "GET",
            "/users/pivotal",
            "",
            &ts,
        );
        let r = send(&s, "GET", "/users/pivotal", h, "").await;
        assert_eq!(r.status, 401, "offset {offset}");
        assert_eq!(
            error_list(&r.body),
            ["Failed to authenticate as pivotal. Synchronize the clock on your host."]
        );
    }
    let h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "GET",
        "/users/pivotal",
        "",
        "yesterday",
    );
    let r = send(&s, "GET", "/users/pivotal", h, "").await;
    assert_eq!(r.status, 401);
    assert_eq!(error_list(&r.body), ["bad header(s) 'X-Ops-Timestamp'"]);
}

#[tokio::test]
async fn unsupported_sign_version_is_400() {
    let s = TestServer::start().await;
    let mut h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "GET",
        "/users/pivotal",
        "",
        &now_ts(),
    );
    for (k, v) in h.iter_mut() {
        if k.eq_ignore_ascii_case("x-ops-sign") {
            *v = "algorithm=sha256;version=1.1;".into();
        }
    }
    let r = send(&s, "GET", "/users/pivotal", h, "").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error_list(&r.body),
        ["Unsupported authentication protocol version"]
    );
}

#[tokio::test]
async fn redundant_slashes_and_trailing_slash_are_canonicalised() {
    let s = TestServer::start().await;
    let ts = now_ts();
    // The client signs the path as it sends it; the server canonicalises both sides.
    let h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "GET",
        "/users//pivotal/",
        "",
        &ts,
    );
    let r = send(&s, "GET", "/users/pivotal", h, "").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn api_version_header_on_every_response_and_406_for_unsupported() {
    let s = TestServer::start().await;
    let r = s.get_v(&s.superuser, "/users/pivotal", "2").await;
    let hv: Value = serde_json::from_str(r.header("x-ops-server-api-version").unwrap()).unwrap();
    assert_eq!(
        hv,
        json!({"min_version": "0", "max_version": "2", "request_version": "2", "response_version": "2"})
    );

    let r = s.get_v(&s.superuser, "/users/pivotal", "3").await;
    assert_eq!(r.status, 406);
    assert_eq!(
        r.body,
        json!({"error": "invalid-x-ops-server-api-version", "message": "Specified version 3 not supported", "min_version": 0, "max_version": 2})
    );
    let hv: Value = serde_json::from_str(r.header("x-ops-server-api-version").unwrap()).unwrap();
    assert_eq!(hv["request_version"], "3");
    assert_eq!(hv["response_version"], "-1");

    let r = s
        .raw(
            s.client()
                .get(s.url("/users/pivotal"))
                .header("X-Ops-Server-API-Version", "abc"),
        )
        .await;
    assert_eq!(r.status, 406);
    let hv: Value = serde_json::from_str(r.header("x-ops-server-api-version").unwrap()).unwrap();
    assert_eq!(hv["request_version"], "-1");

    // Unknown routes, 401s and the unsigned status endpoint carry it too.
    for path in ["/no/such/route", "/_status"] {
        let r = s.raw(s.client().get(s.url(path))).await;
        assert!(r.header("x-ops-server-api-version").is_some(), "{path}");
    }
    let r = s.get(&s.superuser, "/no/such/route").await;
    assert_eq!(r.status, 404);
    assert!(r.header("x-ops-server-api-version").is_some());
}

#[tokio::test]
async fn bad_bodies_are_clear_4xx() {
    let s = TestServer::start().await;
    let big = "x".repeat(2_100_000);
    let h = sign(
        &s.superuser,
        SignVersion::V1_1,
        "POST",
        "/organizations",
        &big,
        &now_ts(),
    );
    let r = send(&s, "POST", "/organizations", h, &big).await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body,
        json!({"error": "JSON must be no more than 2000000 bytes."})
    );

    for bad in ["{not json", "[1,2]", "\"str\""] {
        let h = sign(
            &s.superuser,
            SignVersion::V1_1,
            "POST",
            "/organizations",
            bad,
            &now_ts(),
        );
        let r = send(&s, "POST", "/organizations", h, bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body["error"].is_array(), "{bad}: {}", r.text);
    }
}

#[tokio::test]
async fn unknown_org_is_404_and_non_members_are_403() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let r = s.get(&s.superuser, "/organizations/nope/nodes").await;
    assert_eq!(r.status, 404);
    assert_eq!(error_list(&r.body), ["organization 'nope' does not exist."]);

    let bob = s.create_user("bob").await;
    let r = s.get(&bob, "/organizations/acme").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        error_list(&r.body),
        ["'bob' not associated with organization 'acme'"]
    );
    s.associate("acme", "bob").await;
    let r = s.get(&bob, "/organizations/acme").await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn gzip_bodies_are_verified_compressed_and_read_inflated() {
    use std::io::Write;
    let s = TestServer::start().await;
    let body = json!({"name": "zipped", "full_name": "Zipped"}).to_string();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let ts = now_ts();
    let h = signed_header::sign(
        &s.superuser.key,
        SignVersion::V1_1,
        "POST",
        "/organizations",
        &gz,
        "pivotal",
        &ts,
        "0",
    )
    .unwrap();
    let mut req = s
        .client()
        .post(s.url("/organizations"))
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "application/json");
    for (k, v) in h {
        req = req.header(k, v);
    }
    let r = s.raw(req.body(gz)).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn method_check_comes_before_authentication_and_after_version() {
    let s = TestServer::start().await;
    let r = s.raw(s.client().put(s.url("/license"))).await;
    assert_eq!(
        r.status, 405,
        "unsigned PUT on a GET-only route: {}",
        r.text
    );
    assert!(r.header("x-ops-server-api-version").is_some());
    let r = s
        .raw(
            s.client()
                .put(s.url("/license"))
                .header("X-Ops-Server-API-Version", "invalid"),
        )
        .await;
    assert_eq!(r.status, 406);
    assert_eq!(r.body["message"], "Specified version invalid not supported");
}

/// chef-manage's scheme: `X-Ops-Request-Source: web`, signed with the web UI key, acts as
/// the user named in `X-Ops-UserId`; the user's own key does not count for such requests.
#[tokio::test]
async fn web_ui_requests_act_for_the_named_user() {
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let pem = key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("webui_priv.pem");
    std::fs::write(&path, &pem).unwrap();
    let s = TestServer::start_with(|c| c.auth.webui_key_file = Some(path)).await;
    let alice = s.create_user("alice").await;
    let web = |actor: &Actor, user: &str| {
        let signer = Actor {
            name: user.into(),
            ..actor.clone()
        };
        s.signed_request(
            &signer,
            "GET",
            "/users/alice",
            "/users/alice",
            None,
            SignVersion::V1_1,
            "1",
        )
        .header("X-Ops-Request-Source", "web")
    };
    let webui = Actor::new("webui", &pem);
    let r = s.raw(web(&webui, "alice")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["username"], "alice");
    // Alice's own key is not the web UI's.
    let r = s.raw(web(&alice, "alice")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(
        error_list(&r.body),
        ["Invalid signature for user or client 'alice'"]
    );
    let r = s.raw(web(&webui, "nobody")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // Acting as alice grants alice's rights only: she may not read pivotal's keys.
    let r = s
        .raw(
            s.signed_request(
                &Actor {
                    name: "alice".into(),
                    ..webui.clone()
                },
                "GET",
                "/users/pivotal/keys",
                "/users/pivotal/keys",
                None,
                SignVersion::V1_1,
                "1",
            )
            .header("X-Ops-Request-Source", "web"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn web_ui_requests_are_refused_without_a_web_ui_key() {
    let s = TestServer::start().await;
    let alice = s.create_user("alice").await;
    let r = s
        .raw(
            s.signed_request(
                &alice,
                "GET",
                "/users/alice",
                "/users/alice",
                None,
                SignVersion::V1_1,
                "1",
            )
            .header("X-Ops-Request-Source", "web"),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

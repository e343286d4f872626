//! The file store against hostile uploads: files are kept per org and never replaced (an
//! MD5 collision pair cannot swap another org's file, or an earlier upload), uploads need
//! an open sandbox and the right to create one, and a large body is not read before its
//! sender is authenticated.

mod common;

use std::time::Duration;

use brigade::auth::signed_header::{self, SignVersion};
use common::{md5_hex, Actor, TestServer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A published MD5 collision pair (two different 128-byte blocks, one MD5).
fn collision_pair() -> (Vec<u8>, Vec<u8>) {
    let a = hex::decode(concat!(
        "d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f89",
        "55ad340609f4b30283e488832571415a085125e8f7cdc99fd91dbdf280373c5b",
        "d8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0",
        "e99f33420f577ee8ce54b67080a80d1ec69821bcb6a8839396f9652b6ff72a70"
    ))
    .unwrap();
    let b = hex::decode(concat!(
        "d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f89",
        "55ad340609f4b30283e4888325f1415a085125e8f7cdc99fd91dbd7280373c5b",
        "d8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0",
        "e99f33420f577ee8ce54b67080280d1ec69821bcb6a8839396f965ab6ff72a70"
    ))
    .unwrap();
    assert_ne!(a, b);
    assert_eq!(md5_hex(&a), md5_hex(&b));
    (a, b)
}

/// Announces `sum` in a new sandbox of `org`; returns (sandbox path, upload URL if needed).
async fn announce(s: &TestServer, who: &Actor, org: &str, sum: &str) -> (String, Option<String>) {
    let r = s
        .post(
            who,
            &format!("/organizations/{org}/sandboxes"),
            &json!({"checksums": {sum: null}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let path = format!(
        "/organizations/{org}/sandboxes/{}",
        r.body["sandbox_id"].as_str().unwrap()
    );
    let url = r.body["checksums"][sum]["url"].as_str().map(str::to_string);
    (path, url)
}

async fn put_url(s: &TestServer, url: &str, data: &[u8]) -> u16 {
    s.client()
        .put(url)
        .header("content-type", "application/x-binary")
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A signed-header PUT of raw bytes to the file store, as knife sends one; `signed` is what
/// the signature covers (normally `data`).
async fn put_signed(s: &TestServer, who: &Actor, org: &str, data: &[u8], signed: &[u8]) -> u16 {
    let path = format!(
        "/organizations/{org}/file_store/checksums/{}",
        md5_hex(data)
    );
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let headers = signed_header::sign(
        &who.key,
        SignVersion::V1_1,
        "PUT",
        &path,
        signed,
        &who.name,
        &ts,
        "1",
    )
    .unwrap();
    let mut req = s
        .client()
        .put(s.url(&path))
        .header("content-type", "application/x-binary")
        .header("accept", "application/json")
        .header("x-ops-server-api-version", "1");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.body(data.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn download(s: &TestServer, who: &Actor, org: &str, sum: &str) -> Vec<u8> {
    let path = format!("/organizations/{org}/file_store/checksums/{sum}");
    let req = s.signed_request(who, "GET", &path, &path, None, SignVersion::V1_1, "1");
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

async fn org_admin(s: &TestServer, org: &str, user: &str) -> Actor {
    s.create_org(org).await;
    let admin = s.create_user(user).await;
    s.associate(org, user).await;
    s.add_to_group(org, "admins", user).await;
    admin
}

#[tokio::test]
async fn another_org_cannot_replace_a_file_with_a_colliding_one() {
    let s = TestServer::start().await;
    let (good, evil) = collision_pair();
    let sum = md5_hex(&good);
    let alice = org_admin(&s, "acme", "alice").await;
    let mallory = org_admin(&s, "evil", "mallory").await;

    let (sandbox, url) = announce(&s, &alice, "acme", &sum).await;
    assert_eq!(put_url(&s, &url.unwrap(), &good).await, 200);
    let r = s
        .put(&alice, &sandbox, &json!({"is_completed": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The other org's admin uploads the other half of the pair through its own sandbox.
    let (sandbox, url) = announce(&s, &mallory, "evil", &sum).await;
    let url = url.expect("evil does not hold the file, so it must upload it");
    assert_eq!(put_url(&s, &url, &evil).await, 200);
    let r = s
        .put(&mallory, &sandbox, &json!({"is_completed": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    assert_eq!(
        download(&s, &alice, "acme", &sum).await,
        good,
        "acme's file is unchanged"
    );
    assert_eq!(download(&s, &mallory, "evil", &sum).await, evil);
}

#[tokio::test]
async fn the_first_upload_of_a_checksum_wins() {
    let s = TestServer::start().await;
    let (good, evil) = collision_pair();
    let sum = md5_hex(&good);
    let alice = org_admin(&s, "acme", "alice").await;
    let (sandbox, url) = announce(&s, &alice, "acme", &sum).await;
    let url = url.unwrap();
    assert_eq!(put_url(&s, &url, &good).await, 200);
    // The same URL again, with colliding bytes: accepted (the checksum is right) but the
    // stored file stays the first one.
    assert_eq!(put_url(&s, &url, &evil).await, 200);
    assert_eq!(put_signed(&s, &alice, "acme", &evil, &evil).await, 200);
    assert_eq!(
        s.put(&alice, &sandbox, &json!({"is_completed": true}))
            .await
            .status,
        200
    );
    assert_eq!(download(&s, &alice, "acme", &sum).await, good);
}

#[tokio::test]
async fn uploads_need_an_open_sandbox_and_the_right_to_create_one() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let su = &s.superuser;
    let r = s
        .post(
            su,
            "/organizations/acme/clients",
            &json!({"name": "node1", "create_key": true}),
        )
        .await;
    let node = Actor::new("node1", r.body["chef_key"]["private_key"].as_str().unwrap());
    let data = b"recipe contents".as_slice();
    let sum = md5_hex(data);

    // Nothing announced it: nobody may upload it, not even the superuser.
    assert_eq!(put_signed(&s, su, "acme", data, data).await, 403);
    let (sandbox, _) = announce(&s, su, "acme", &sum).await;
    // Clients are refused a sandbox, and so are their uploads.
    assert_eq!(put_signed(&s, &node, "acme", data, data).await, 403);
    assert_eq!(put_signed(&s, &validator, "acme", data, data).await, 403);
    let path = format!("/organizations/acme/file_store/checksums/{sum}");
    assert_eq!(s.get(su, &path).await.status, 404, "nothing was stored");

    assert_eq!(put_signed(&s, su, "acme", data, data).await, 200);
    assert_eq!(
        s.put(su, &sandbox, &json!({"is_completed": true}))
            .await
            .status,
        200
    );
    assert_eq!(download(&s, &node, "acme", &sum).await, data);

    // Once its sandbox is committed, a file's upload URL takes nothing more.
    let other = b"other contents".as_slice();
    let (sandbox, url) = announce(&s, su, "acme", &md5_hex(other)).await;
    let url = url.unwrap();
    assert_eq!(put_url(&s, &url, other).await, 200);
    assert_eq!(
        s.put(su, &sandbox, &json!({"is_completed": true}))
            .await
            .status,
        200
    );
    assert_eq!(put_url(&s, &url, other).await, 403);
}

#[tokio::test]
async fn a_signed_upload_whose_body_is_not_what_was_signed_is_refused() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let data = b"the real file".as_slice();
    let sum = md5_hex(data);
    announce(&s, su, "acme", &sum).await;
    assert_eq!(
        put_signed(&s, su, "acme", data, b"something else").await,
        401
    );
    let path = format!("/organizations/acme/file_store/checksums/{sum}");
    assert_eq!(s.get(su, &path).await.status, 404);
    assert_eq!(put_signed(&s, su, "acme", data, data).await, 200);
}

/// Sends a request head announcing `length` body bytes plus the first `sent` of them,
/// then waits up to five seconds for the answer; returns its status line.
async fn head_then_wait(s: &TestServer, head: &str, length: usize, sent: usize) -> Option<String> {
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{head}Content-Length: {length}\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    conn.write_all(&vec![b'x'; sent]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.lines().next().map(str::to_string)
}

#[tokio::test]
async fn unauthenticated_file_bodies_are_not_read() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let sum = md5_hex(b"whatever");
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let head = format!(
        "PUT /organizations/acme/file_store/checksums/{sum} HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-binary\r\nX-Ops-Sign: version=1.0\r\n\
         X-Ops-Userid: nobody\r\nX-Ops-Timestamp: {ts}\r\n\
         X-Ops-Content-Hash: 2jmj7l5rSw0yVb/vlWAYkK/YBwk=\r\n\
         X-Ops-Authorization-1: Zm9vYmFy\r\n",
        s.base.strip_prefix("http://").unwrap()
    );
    // 90 MB announced, 64 KB sent: the answer must come without the rest.
    let status = head_then_wait(&s, &head, 90_000_000, 65_536).await;
    let status = status.expect("answered before the body was sent");
    assert!(status.contains(" 401 "), "{status}");

    // An announced length over the file limit is a 413 at once.
    let limit = s.state.config.limits.max_file_bytes;
    let status = head_then_wait(&s, &head, limit + 1, 0).await.unwrap();
    assert!(status.contains(" 413 "), "{status}");

    // The JSON routes read at most the JSON limit of an unauthenticated request.
    let head = format!(
        "POST /organizations/acme/nodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Ops-Sign: version=1.0\r\nX-Ops-Userid: nobody\r\nX-Ops-Timestamp: {ts}\r\n\
         X-Ops-Content-Hash: 2jmj7l5rSw0yVb/vlWAYkK/YBwk=\r\nX-Ops-Authorization-1: Zm9vYmFy\r\n"
    );
    let json_limit = s.state.config.limits.max_json_bytes;
    let status = head_then_wait(&s, &head, json_limit * 10, 1024)
        .await
        .unwrap();
    assert!(status.contains(" 413 "), "{status}");
}

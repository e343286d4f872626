//! Reporting test helpers on top of `tests/common`: requests with the reporting protocol
//! header, gzip end-of-run posts signed over the compressed bytes (as chef-client sends
//! them), an org with a node client, and chef-client shaped bodies.
#![allow(dead_code)]

use std::io::Write;

use brigade::auth::signed_header::{self, SignVersion};
use serde_json::{json, Value};

use crate::common::{Actor, Response, TestServer};

pub const PROTOCOL: &str = "0.1.0";

/// A server whose background purge keeps everything (tests post runs from years ago).
pub async fn start() -> TestServer {
    TestServer::start_with(|c| c.reporting.retention_days = 0).await
}

/// A signed request with `protocol` as the reporting protocol header (None: no header),
/// `body` sent as given with `headers` added.
pub async fn send(
    s: &TestServer,
    actor: &Actor,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    protocol: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    let sign_path = path.split('?').next().unwrap_or(path);
    let bytes = body.clone().unwrap_or_default();
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let signed = signed_header::sign(
        &actor.key,
        SignVersion::V1_1,
        method,
        sign_path,
        &bytes,
        &actor.name,
        &ts,
        "1",
    )
    .expect("sign");
    let mut req = s
        .client()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            s.url(path),
        )
        .header("X-Ops-Server-API-Version", "1")
        .header("Accept", "application/json");
    for (k, v) in signed {
        req = req.header(k, v);
    }
    if let Some(p) = protocol {
        req = req.header("X-Ops-Reporting-Protocol-Version", p);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    s.raw(req).await
}

pub async fn get(s: &TestServer, actor: &Actor, path: &str) -> Response {
    send(s, actor, "GET", path, None, Some(PROTOCOL), &[]).await
}

/// A JSON post, as chef-client sends the run start.
pub async fn post(s: &TestServer, actor: &Actor, path: &str, body: &Value) -> Response {
    let json = [("Content-Type", "application/json")];
    send(
        s,
        actor,
        "POST",
        path,
        Some(body.to_string().into_bytes()),
        Some(PROTOCOL),
        &json,
    )
    .await
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A gzip post with no JSON content type, as chef-client's `raw_request` sends the run end.
pub async fn post_gzip(s: &TestServer, actor: &Actor, path: &str, body: &Value) -> Response {
    let headers = [
        ("Content-Encoding", "gzip"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let bytes = gzip(body.to_string().as_bytes());
    send(
        s,
        actor,
        "POST",
        path,
        Some(bytes),
        Some(PROTOCOL),
        &headers,
    )
    .await
}

/// An org `acme` with a client and node `web1`; returns (node client, org admin user).
pub async fn org_with_node(s: &TestServer) -> (Actor, Actor) {
    let validator = s.create_org("acme").await;
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let web1 = Actor::new("web1", r.body["private_key"].as_str().unwrap());
    let r = s
        .post(&web1, "/organizations/acme/nodes", &json!({"name": "web1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let admin = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    (web1, admin)
}

/// Ruby `Time#to_s` of Unix seconds at offset -07:00, as chef-client formats times.
pub fn ruby_time(t: i64) -> String {
    let offset = chrono::FixedOffset::west_opt(7 * 3600).unwrap();
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

pub fn start_body(run_id: &str, start: i64) -> Value {
    json!({"action": "start", "run_id": run_id, "start_time": ruby_time(start)})
}

/// A resource record as `Chef::ResourceReporter#for_json` builds it.
pub fn resource(i: usize) -> Value {
    json!({
        "type": "file",
        "name": format!("/tmp/file{i}"),
        "id": format!("/tmp/file{i}"),
        "after": {"path": format!("/tmp/file{i}"), "owner": "root", "mode": "0644", "checksum": "abc"},
        "before": {"path": format!("/tmp/file{i}"), "owner": null, "mode": null, "checksum": null},
        "duration": format!("{}", 10 + i),
        "delta": format!("--- /tmp/file{i}\n+++ /tmp/.chef-file{i}\n@@ -0,0 +1 @@\n+hello {i}"),
        "result": "create",
        "cookbook_name": "base",
        "cookbook_version": "1.2.3"
    })
}

/// An end-of-run body with `n` resources, the way chef-client 18 shapes it.
pub fn end_body(status: &str, start: i64, end: i64, n: usize) -> Value {
    let mut data = json!({});
    if status == "failure" {
        data = json!({"exception": {
            "class": "#<Chef::Exceptions::ValidationFailed: boom>",
            "message": "boom",
            "backtrace": "[\"/opt/chef/a.rb:1\"]",
            "description": {"title": "Error executing action", "sections": []}
        }});
    }
    json!({
        "action": "end",
        "resources": (0..n).map(resource).collect::<Vec<_>>(),
        "status": status,
        "run_list": "[\"recipe[base]\"]",
        "total_res_count": n.to_string(),
        "data": data,
        "start_time": ruby_time(start),
        "end_time": ruby_time(end),
        "expanded_run_list": "{\"id\":\"_default\",\"run_list\":[{\"type\":\"recipe\",\"name\":\"base\",\"version\":null,\"skipped\":false}]}"
    })
}

pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Posts a run's start and its gzip end; returns the run id.
pub async fn record_run(
    s: &TestServer,
    node: &Actor,
    status: &str,
    start: i64,
    secs: i64,
    n: usize,
) -> String {
    let id = new_run_id();
    let base = format!("/organizations/acme/reports/nodes/{}/runs", node.name);
    let r = post(s, node, &base, &start_body(&id, start)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post_gzip(
        s,
        node,
        &format!("{base}/{id}"),
        &end_body(status, start, start + secs, n),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

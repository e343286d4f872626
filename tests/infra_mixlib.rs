//! Requests signed by Debian's ruby-mixlib-authentication, the library knife and
//! chef-client sign with, in protocols 1.0, 1.1 and 1.3, and chef-client's own path
//! (validator registration, node save, search, reporting) signed the same way. CI installs
//! it; on a machine without it the test says so and passes only outside CI.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::TestServer;
use serde_json::{json, Value};

fn mixlib_available() -> bool {
    Command::new("ruby")
        .args([
            "-e",
            "require 'openssl'; require 'mixlib/authentication/signedheaderauth'",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

fn mixlib_sign(input: &Value) -> Vec<(String, String)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/mixlib_sign.rb");
    let mut child = Command::new("ruby")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run ruby");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "mixlib signer failed");
    let headers: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    headers
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect()
}

/// False (after saying so) when the signer is missing; CI must have it.
fn require_mixlib() -> bool {
    if mixlib_available() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must install ruby-mixlib-authentication"
    );
    eprintln!("skipping: ruby-mixlib-authentication is not installed");
    false
}

/// An actor whose requests mixlib signs (API version 1) over method, path without the
/// query, and body; `extra` headers ride along unsigned.
struct Signer<'a> {
    s: &'a TestServer,
    name: String,
    key_path: std::path::PathBuf,
    protocol: &'static str,
}

impl Signer<'_> {
    fn sign(&self, method: &str, path: &str, body: &str) -> Vec<(String, String)> {
        mixlib_sign(&json!({
            "key_path": self.key_path, "method": method, "path": path, "body": body,
            "user_id": self.name, "protocol": self.protocol, "server_api_version": "1",
        }))
    }

    async fn call(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> common::Response {
        let body = body.map(Value::to_string).unwrap_or_default();
        let headers = self.sign(method, path_and_query.split('?').next().unwrap(), &body);
        let mut req = self
            .s
            .client()
            .request(method.parse().unwrap(), self.s.url(path_and_query))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        let signed = headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for (k, v) in signed.chain(extra.iter().copied()) {
            req = req.header(k, v);
        }
        self.s.raw(req.body(body)).await
    }
}

#[tokio::test]
async fn knife_signing_library_is_accepted_in_every_protocol() {
    if !require_mixlib() {
        return;
    }
    let s = TestServer::start().await;
    s.create_org("acme").await;
    for protocol in ["1.0", "1.1", "1.3"] {
        let pivotal = Signer {
            s: &s,
            name: "pivotal".into(),
            key_path: s.state.config.keys_dir().join("pivotal.pem"),
            protocol,
        };
        let org = json!({"name": format!("org-{}", protocol.replace('.', "")), "full_name": "x"});
        for (method, path, body) in [
            ("GET", "/organizations/acme", None),
            ("GET", "/users/pivotal", None),
            ("POST", "/organizations", Some(&org)),
        ] {
            let r = pivotal.call(method, path, body, &[]).await;
            assert!(
                r.status == 200 || r.status == 201,
                "{protocol} {method} {path}: {} {}",
                r.status,
                r.text
            );
        }
        // The same signature over a different body is refused.
        let headers = pivotal.sign(
            "POST",
            "/organizations",
            "{\"name\":\"a\",\"full_name\":\"a\"}",
        );
        let mut req = s.client().post(s.url("/organizations"));
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let r = s
            .raw(req.body("{\"name\":\"b\",\"full_name\":\"b\"}"))
            .await;
        assert_eq!(r.status, 401, "{protocol}");
    }
}

#[tokio::test]
async fn chef_client_path_signed_by_mixlib() {
    if !require_mixlib() {
        return;
    }
    let s = TestServer::start().await;
    let keys = tempfile::tempdir().unwrap();
    let signer = |name: &str, pem: &str| {
        let key_path = keys.path().join(format!("{name}.pem"));
        std::fs::write(&key_path, pem).unwrap();
        // chef-client signs with protocol 1.1.
        Signer {
            s: &s,
            name: name.into(),
            key_path,
            protocol: "1.1",
        }
    };
    let v = s.create_org("acme").await;
    let validator = signer(&v.name, &v.key_pem);

    // Registration: the validator creates the client and receives its key.
    let body = json!({"name": "web1", "create_key": true});
    let r = validator
        .call("POST", "/organizations/acme/clients", Some(&body), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client = signer("web1", r.body["chef_key"]["private_key"].as_str().unwrap());

    // A validator registers clients but may not make another validator.
    let body = json!({"name": "rogue", "validator": true, "create_key": true});
    let r = validator
        .call("POST", "/organizations/acme/clients", Some(&body), &[])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // The new client creates its node, saves it with ohai data, and reads it back.
    let node = json!({"name": "web1", "chef_environment": "_default", "json_class": "Chef::Node",
                      "chef_type": "node", "run_list": ["recipe[base]"], "normal": {"tags": []}});
    let nodes = "/organizations/acme/nodes";
    let r = client.call("POST", nodes, Some(&node), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut saved = node.clone();
    saved["automatic"] = json!({"ipaddress": "10.0.0.5", "platform": "ubuntu"});
    let web1 = "/organizations/acme/nodes/web1";
    let r = client.call("PUT", web1, Some(&saved), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = client.call("GET", web1, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["automatic"]["ipaddress"], "10.0.0.5");
    assert_eq!(r.body["run_list"], json!(["recipe[base]"]));

    // Invalid: a body whose name is not the URL's.
    let mut renamed = saved.clone();
    renamed["name"] = json!("web2");
    let r = client.call("PUT", web1, Some(&renamed), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // Unauthorized: a node's client cannot delete the validator.
    let r = client
        .call(
            "DELETE",
            "/organizations/acme/clients/acme-validator",
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // The save is searchable at once, as a recipe's search() sees it.
    let q = "/organizations/acme/search/node?q=ipaddress:10.0.0.5";
    let r = client.call("GET", q, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 1, "{}", r.text);
    assert_eq!(r.body["rows"][0]["name"], "web1");

    // Reporting: the run start is accepted with the protocol header, refused without it.
    let run = json!({"action": "start", "run_id": "5b6d3e2a-6a0b-4c5e-9a51-0f6a2b1c3d4e",
                     "start_time": "2026-12-03 07:00:00 UTC"});
    let runs = "/organizations/acme/reports/nodes/web1/runs";
    let r = client.call("POST", runs, Some(&run), &[]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let proto = [("X-Ops-Reporting-Protocol-Version", "0.1.0")];
    let r = client.call("POST", runs, Some(&run), &proto).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

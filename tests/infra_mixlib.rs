//! Requests signed by Debian's ruby-mixlib-authentication, the library knife and
//! chef-client sign with, in protocols 1.0, 1.1 and 1.3. CI installs it; on a machine
//! without it the test says so and passes only outside CI.

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

#[tokio::test]
async fn knife_signing_library_is_accepted_in_every_protocol() {
    if !mixlib_available() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install ruby-mixlib-authentication"
        );
        eprintln!("skipping: ruby-mixlib-authentication is not installed");
        return;
    }
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let key_path = s.state.config.keys_dir().join("pivotal.pem");
    for protocol in ["1.0", "1.1", "1.3"] {
        for (method, path, body) in [
            ("GET", "/organizations/acme", String::new()),
            ("GET", "/users/pivotal", String::new()),
            (
                "POST",
                "/organizations",
                json!({"name": format!("org-{}", protocol.replace('.', "")), "full_name": "x"})
                    .to_string(),
            ),
        ] {
            let headers = mixlib_sign(&json!({
                "key_path": key_path, "method": method, "path": path, "body": body,
                "user_id": "pivotal", "protocol": protocol, "server_api_version": "1",
            }));
            let mut req = s
                .client()
                .request(method.parse().unwrap(), s.url(path))
                .header("Content-Type", "application/json");
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            let r = s.raw(req.body(body.clone())).await;
            assert!(
                r.status == 200 || r.status == 201,
                "{protocol} {method} {path}: {} {}",
                r.status,
                r.text
            );
        }
        // The same signature over a different body is refused.
        let headers = mixlib_sign(&json!({
            "key_path": key_path, "method": "POST", "path": "/organizations", "body": "{\"name\":\"a\",\"full_name\":\"a\"}",
            "user_id": "pivotal", "protocol": protocol, "server_api_version": "1",
        }));
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

//! Throughput of signed GETs against a real server (SQLite in a temp dir, or
//! `--database-url`) at N concurrent connections:
//! - `--target org` (default): `GET /organizations/acme`;
//! - `--target cookbook`: `GET /organizations/acme/cookbooks/app/1.0.0` of a cookbook with
//!   40 files (recipes, templates, files, attributes, libraries) uploaded through a
//!   sandbox first, so each answer carries 40 freshly pre-signed file URLs;
//!   `--api-version 2` asks for the `all_files` shape instead of segments.
//!
//! The request is signed once up front and replayed (valid within the clock-skew window),
//! so the figure is the server's cost — header parsing, key lookup, signature
//! verification, authorization, the load, JSON — and not the client's RSA signing. Run with
//! `cargo run --release --example bench_http -- [--target org|cookbook] [--seconds N]
//! [--connections N] [--api-version N]`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brigade::auth::signed_header::{self, SignVersion};
use brigade::Config;
use md5::{Digest, Md5};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

struct Signer {
    client: reqwest::Client,
    base: String,
    key: RsaPrivateKey,
    api: String,
}

impl Signer {
    fn headers(&self, method: &str, path: &str, body: &[u8]) -> Vec<(String, String)> {
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        signed_header::sign(
            &self.key,
            SignVersion::V1_1,
            method,
            path,
            body,
            "pivotal",
            &ts,
            &self.api,
        )
        .expect("sign")
    }

    async fn send(&self, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let bytes = serde_json::to_vec(body)?;
        let mut req = self
            .client
            .request(method.parse()?, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("X-Ops-Server-API-Version", &self.api)
            .body(bytes.clone());
        for (k, v) in self.headers(method, path, &bytes) {
            req = req.header(k, v);
        }
        let r = req.send().await?;
        anyhow::ensure!(r.status().is_success(), "{method} {path}: {}", r.status());
        Ok(r.json().await?)
    }
}

/// Uploads a 40-file cookbook `app` 1.0.0 the way knife does; returns its path.
async fn seed_cookbook(s: &Signer) -> anyhow::Result<String> {
    let segments = [
        ("recipes", "rb"),
        ("templates", "erb"),
        ("files", "conf"),
        ("attributes", "rb"),
        ("libraries", "rb"),
    ];
    let mut files = Vec::new();
    for (seg, ext) in segments {
        for i in 0..8 {
            let body = format!("# {seg} {i}\n{}\n", "x".repeat(200 + i * 37));
            let sum = hex::encode(Md5::digest(body.as_bytes()));
            files.push((seg, format!("{seg}/f{i}.{ext}"), sum, body));
        }
    }
    let announce: serde_json::Map<String, Value> = files
        .iter()
        .map(|(_, _, sum, _)| (sum.clone(), Value::Null))
        .collect();
    let sb = s
        .send(
            "POST",
            "/organizations/acme/sandboxes",
            &json!({ "checksums": announce }),
        )
        .await?;
    for (_, _, sum, body) in &files {
        let url = sb["checksums"][sum]["url"].as_str().unwrap_or_default();
        let r = s
            .client
            .put(url)
            .header("content-type", "application/x-binary")
            .body(body.clone())
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "file upload: {}", r.status());
    }
    let id = sb["sandbox_id"].as_str().unwrap_or_default();
    s.send(
        "PUT",
        &format!("/organizations/acme/sandboxes/{id}"),
        &json!({"is_completed": true}),
    )
    .await?;
    let mut doc = json!({
        "name": "app-1.0.0", "cookbook_name": "app", "version": "1.0.0",
        "json_class": "Chef::CookbookVersion", "chef_type": "cookbook_version", "frozen?": false,
        "metadata": {"name": "app", "version": "1.0.0", "description": "bench",
                     "dependencies": {"base": ">= 1.0"}},
    });
    for (seg, _) in segments {
        doc[seg] = json!(files
            .iter()
            .filter(|f| f.0 == seg)
            .map(|(_, path, sum, _)| json!({
                "name": path.rsplit('/').next(), "path": path, "checksum": sum,
                "specificity": "default"
            }))
            .collect::<Vec<_>>());
    }
    let path = "/organizations/acme/cookbooks/app/1.0.0";
    // The segment shape is accepted under every API version on PUT.
    let v1 = Signer {
        api: "1".into(),
        client: s.client.clone(),
        base: s.base.clone(),
        key: s.key.clone(),
    };
    v1.send("PUT", path, &doc).await?;
    Ok(path.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
    let conns: usize = arg("--connections")
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let target = arg("--target").unwrap_or_else(|| "org".into());
    let api = arg("--api-version").unwrap_or_else(|| "1".into());
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: arg("--database-url").unwrap_or_default(),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = brigade::init_state(config.clone()).await?;
    let pivotal_pem = std::fs::read_to_string(config.keys_dir().join("pivotal.pem"))?;
    let pivotal = signed_header::parse_private_key(&pivotal_pem).expect("key");
    brigade::ops::create_org(
        &state.store,
        "acme",
        "Acme",
        &state.store.user_by_name("pivotal").await?.unwrap().id,
        true,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tokio::spawn(brigade::serve(listener, state, std::future::pending()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()?;
    let signer = Signer {
        client: client.clone(),
        base: format!("http://{addr}"),
        key: pivotal,
        api: api.clone(),
    };
    let path = match target.as_str() {
        "org" => "/organizations/acme".to_string(),
        "cookbook" => seed_cookbook(&signer).await?,
        other => anyhow::bail!("unknown --target {other} (org or cookbook)"),
    };
    let url = format!("{}{path}", signer.base);
    let headers = signer.headers("GET", &path, b"");
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, url, headers, api) =
            (client.clone(), url.clone(), headers.clone(), api.clone());
        let (done, failed, bytes) = (done.clone(), failed.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut req = client.get(&url).header("X-Ops-Server-API-Version", &api);
                for (k, v) in &headers {
                    req = req.header(k, v);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let n = r.bytes().await.map_or(0, |b| b.len());
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let n = done.load(Ordering::Relaxed);
    println!(
        "signed GET {path} (API v{api}): {n} requests in {seconds} s at {conns} connections = {:.0} req/s, {} bytes per answer ({} failed)",
        n as f64 / seconds as f64,
        bytes.load(Ordering::Relaxed) / n.max(1),
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

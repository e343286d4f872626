//! Ingest throughput of chef-client end-of-run posts (`POST …/reports/nodes/N/runs/ID`,
//! gzip, 50 updated resources each) against a real server (SQLite in a temp dir, or
//! `--database-url`). Requests are signed and compressed up front, so the figure is the
//! server's cost: signature check over the gzip bytes, inflate, validation, and one
//! transaction writing the run and its 50 resources. Run with
//! `cargo run --release --example bench_reporting -- [--runs N] [--connections N] [--resources N]`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use brigade::auth::signed_header::{self, SignVersion};
use brigade::Config;
use serde_json::{json, Value};

fn resource(i: usize) -> Value {
    json!({
        "type": "template",
        "name": format!("/etc/app/conf{i}.d/settings.conf"),
        "id": format!("/etc/app/conf{i}.d/settings.conf"),
        "after": {"path": format!("/etc/app/conf{i}.d/settings.conf"), "owner": "root", "group": "root",
                  "mode": "0644", "checksum": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
        "before": {"path": format!("/etc/app/conf{i}.d/settings.conf"), "owner": "root", "group": "root",
                   "mode": "0644", "checksum": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
        "duration": "37",
        "delta": "--- /etc/app/settings.conf\n+++ /etc/app/.chef-settings.conf\n@@ -1,3 +1,3 @@\n-port = 8080\n+port = 9090\n",
        "result": "create",
        "cookbook_name": "app",
        "cookbook_version": "2.4.1"
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
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
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(2000);
    let conns: usize = arg("--connections")
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let n_res: usize = arg("--resources")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: arg("--database-url").unwrap_or_default(),
        ..Config::default()
    };
    config.reporting.retention_days = 0;
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

    // Sign and compress every post before the clock starts.
    let now = chrono::Utc::now();
    let ts = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let start = (now - chrono::Duration::seconds(300))
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string();
    let end = now.format("%Y-%m-%d %H:%M:%S %z").to_string();
    let resources: Vec<Value> = (0..n_res).map(resource).collect();
    let mut prepared = Vec::with_capacity(runs);
    let mut bytes_total = 0usize;
    for i in 0..runs {
        let node = format!("node{}", i % 100);
        let run_id = uuid::Uuid::new_v4().to_string();
        let path = format!("/organizations/acme/reports/nodes/{node}/runs/{run_id}");
        let body = json!({
            "action": "end", "resources": resources, "status": "success",
            "run_list": "[\"role[app]\"]", "total_res_count": n_res.to_string(), "data": {},
            "start_time": start, "end_time": end, "expanded_run_list": "{}"
        });
        let gz = gzip(body.to_string().as_bytes());
        bytes_total += gz.len();
        let headers = signed_header::sign(
            &pivotal,
            SignVersion::V1_1,
            "POST",
            &path,
            &gz,
            "pivotal",
            &ts,
            "1",
        )?;
        prepared.push((format!("http://{addr}{path}"), headers, gz));
    }
    println!(
        "prepared {runs} end-of-run posts with {n_res} resources ({} bytes gzip each on average)",
        bytes_total / runs.max(1)
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()?;
    let queue = Arc::new(std::sync::Mutex::new(prepared));
    let failed = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, queue, failed) = (client.clone(), queue.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue").pop();
                let Some((url, headers, body)) = next else {
                    break;
                };
                let mut req = client
                    .post(&url)
                    .header("X-Ops-Server-API-Version", "1")
                    .header("X-Ops-Reporting-Protocol-Version", "0.1.0")
                    .header("Content-Encoding", "gzip")
                    .body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
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
    let secs = began.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "end-of-run posts ({n_res} resources, gzip): {runs} in {secs:.2} s at {conns} connections = {:.0} runs/s, {:.0} resources/s ({failed} failed)",
        runs as f64 / secs,
        (runs as f64 * n_res as f64) / secs,
    );
    Ok(())
}

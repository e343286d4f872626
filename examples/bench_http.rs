//! Throughput of signed `GET /organizations/ORG` at 16 concurrent connections against a
//! real server (SQLite in a temp dir, or `--database-url`). The request is signed once up
//! front and replayed (valid within the clock-skew window), so the figure is the server's
//! cost — header parsing, key lookup, signature verification, org load, JSON — and not the
//! client's RSA signing. Run with
//! `cargo run --release --example bench_http -- [--seconds N] [--connections N]`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brigade::auth::signed_header::{self, SignVersion};
use brigade::Config;

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
    let (org, _) = brigade::ops::create_org(
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
    let url = format!("http://{addr}/organizations/{}", org.name);
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let path = "/organizations/acme";
    let headers = signed_header::sign(
        &pivotal,
        SignVersion::V1_1,
        "GET",
        path,
        b"",
        "pivotal",
        &ts,
        "1",
    )?;
    for _ in 0..conns {
        let (client, url, headers, done, failed) = (
            client.clone(),
            url.clone(),
            headers.clone(),
            done.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let headers = headers.clone();
                let mut req = client.get(&url).header("X-Ops-Server-API-Version", "1");
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
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
        "signed GET /organizations/acme: {n} requests in {seconds} s at {conns} connections = {:.0} req/s ({} failed)",
        n as f64 / seconds as f64,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

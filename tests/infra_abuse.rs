//! The server keeps answering while one client sends its worst: concurrent node POSTs
//! with 150,000-entry run lists, the clause bomb, and the costliest queries the limits
//! let through (stopped by their time budget). Probes from another client (an
//! unauthenticated `GET /_status`, a signed `GET` of a node) must answer within 100 ms
//! meanwhile, and the stopped queries must not keep burning CPU afterwards.
//!
//! Both the bad clients and the probes run on their own threads and runtimes, so the
//! server's two async workers only serve requests, as in production.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brigade::auth::signed_header::{self, SignVersion};
use common::{Actor, TestServer};
use serde_json::json;

/// How long the bad clients keep sending.
const LOAD: Duration = Duration::from_millis(2500);
const PROBE_LIMIT: Duration = Duration::from_millis(100);

/// A request signed as knife signs it, built off the server's runtime.
fn signed(
    http: &reqwest::Client,
    base: &str,
    who: &Actor,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> reqwest::RequestBuilder {
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sign_path = path.split('?').next().unwrap_or(path);
    let bytes = body.unwrap_or_default().as_bytes();
    let headers = signed_header::sign(
        &who.key,
        SignVersion::V1_1,
        method.as_str(),
        sign_path,
        bytes,
        &who.name,
        &ts,
        "1",
    )
    .unwrap();
    let mut req = http
        .request(method, format!("{base}{path}"))
        .header("X-Ops-Server-API-Version", "1")
        .header("Accept", "application/json");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    req
}

/// Runs `work` on a thread with its own runtime; its result comes back through a
/// blocking-pool task so the test's own workers stay free for the server.
async fn on_own_thread<T, F>(work: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(work())
        })
        .join()
        .unwrap()
    })
    .await
    .unwrap()
}

/// Sends `req()` again and again until `stop`; returns each status seen with the body of
/// its first answer.
async fn hammer(
    req: impl Fn() -> reqwest::RequestBuilder,
    stop: Arc<AtomicBool>,
) -> Vec<(u16, String)> {
    let mut seen: Vec<(u16, String)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let r = req().send().await.expect("bad request sent");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        if !seen.iter().any(|(s, _)| *s == status) {
            seen.push((status, text));
        }
    }
    seen
}

fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_while_a_client_sends_its_worst() {
    let s = TestServer::start_with(|c| c.search.query_timeout_ms = 200).await;
    let validator = s.create_org("acme").await;
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/nodes",
            &json!({"name": "probe", "automatic": {"attr1": "x"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "attacker"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let attacker = Actor::new("attacker", r.body["private_key"].as_str().unwrap());
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "prober"}),
            "0",
        )
        .await;
    let prober = Actor::new("prober", r.body["private_key"].as_str().unwrap());

    let run_list: Vec<String> = (0..150_000).map(|i| format!("x{i}")).collect();
    let node_body = json!({"name": "big", "run_list": run_list}).to_string();
    let bomb = vec![format!("*:*{}", "a*".repeat(41)); 200].join(" OR ");
    // Within every limit, and still past its 200 ms budget in a debug build: 64 terms of
    // 8 wildcards, 4 of them over every term of the index.
    let mut heavy: Vec<String> = vec!["*:*a*a*a*a*a*a*a".to_string(); 4];
    heavy.extend((0..60).map(|k| format!("attr{k}:*a*a*a*a*a*a*a*")));
    let heavy = heavy.join(" OR ");
    let search = |q: &str| {
        let q: String = q
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'0'..=b'9' | b'*' | b':' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("/organizations/acme/search/node?q={q}")
    };
    let bad: Vec<(String, Option<String>)> = vec![
        ("/organizations/acme/nodes".into(), Some(node_body.clone())),
        ("/organizations/acme/nodes".into(), Some(node_body.clone())),
        ("/organizations/acme/nodes".into(), Some(node_body)),
        (search(&bomb), None),
        (search(&bomb), None),
        (search(&heavy), None),
        (search(&heavy), None),
    ];

    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for (path, body) in bad {
        let (base, who, stop) = (s.base.clone(), attacker.clone(), stop.clone());
        attackers.push(tokio::spawn(on_own_thread(move || async move {
            let http = reqwest::Client::new();
            let method = if body.is_some() {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let seen = hammer(
                || signed(&http, &base, &who, method.clone(), &path, body.as_deref()),
                stop,
            )
            .await;
            (path, seen)
        })));
    }

    let base = s.base.clone();
    let probes = on_own_thread(move || async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let started = Instant::now();
        // Let the bad requests get going first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut worst = (Duration::ZERO, Duration::ZERO);
        let mut count = 0;
        while started.elapsed() < LOAD {
            let t = Instant::now();
            let r = http.get(format!("{base}/_status")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            worst.0 = worst.0.max(t.elapsed());
            let t = Instant::now();
            let path = "/organizations/acme/nodes/probe";
            let r = signed(&http, &base, &prober, reqwest::Method::GET, path, None)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            worst.1 = worst.1.max(t.elapsed());
            count += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (worst, count)
    });
    let ((worst_status, worst_node), count) = probes.await;
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let (path, seen) = a.await.unwrap();
        let what = &path[..path.len().min(60)];
        eprintln!(
            "{what}: {:?}",
            seen.iter().map(|(s, _)| s).collect::<Vec<_>>()
        );
        assert!(!seen.is_empty(), "{what}: nothing answered");
        for (status, text) in &seen {
            if path.ends_with("/nodes") {
                assert_eq!(*status, 400, "{what}: {text}");
                assert!(text.contains("more than the 10000 allowed"), "{text}");
            } else if path.len() > 10_000 {
                assert_eq!(*status, 400, "{what}: {text}");
                assert!(text.contains("bytes long"), "{text}");
            } else if *status != 200 {
                // The heavy query: within its budget on a fast machine, stopped here.
                assert_eq!(*status, 400, "{what}: {text}");
                assert!(text.contains("ran longer than the 200 ms"), "{text}");
            }
        }
    }
    eprintln!(
        "{count} probe pairs; slowest GET /_status {worst_status:?}, slowest signed GET node {worst_node:?}"
    );
    assert!(count >= 10, "only {count} probes answered");
    assert!(
        worst_status < PROBE_LIMIT,
        "GET /_status took {worst_status:?}"
    );
    assert!(worst_node < PROBE_LIMIT, "GET node took {worst_node:?}");

    // Stopped queries stop working: the process is nearly idle once the answers are in.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (cpu, t) = (process_cpu(), Instant::now());
    // A query still running would burn a whole core (1 s of CPU per second); background
    // work (index commits, pool upkeep) stays well under that even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let used = process_cpu() - cpu;
    assert!(
        used < Duration::from_millis(600),
        "{used:?} of CPU in {:?} after the load",
        t.elapsed()
    );
}

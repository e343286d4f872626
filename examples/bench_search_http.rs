//! Search over HTTP against a real server (SQLite in a temp dir, or `--database-url`):
//! seeds N ohai-like nodes (~27 KB of JSON, ~1,000 flattened keys each) with signed
//! `POST /nodes` at 16 connections, then times at 1 and 16 connections: an exact
//! two-term query, a trailing-wildcard query and a range query (100 matches each, as full
//! rows and as ids through a name-only partial search), a partial search of 2 attributes
//! over 1,000 rows, and node saves (`PUT`, answered once the change is searchable).
//! Requests are signed before the clock starts (a query is signed once and replayed; each
//! save has its own body and signature), so the figures are the server's cost plus the
//! loopback HTTP client on the same machine. Requests come from the org's admin user, not
//! the superuser, so permission checks and ACL filtering of rows are included. Run with
//! `cargo run --release --example bench_search_http -- [--nodes N] [--database-url URL]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brigade::auth::signed_header::{self, SignVersion};
use brigade::Config;
use rsa::RsaPrivateKey;
use serde_json::{json, Map, Value};

const ORG: &str = "acme";

/// A deterministic ohai-like node: kernel modules, packages, CPUs, file systems and
/// network interfaces, as `ohai` reports them (sizes tuned to ~27 KB).
fn node(i: usize, save: usize) -> Value {
    let mut modules = Map::new();
    for m in 0..45 {
        modules.insert(
            format!("mod_{m:02}_{}", ["nf", "ip", "xt", "br", "kvm"][m % 5]),
            json!({"size": format!("{}", 16384 + (m * 977 + i) % 90000), "refcount": format!("{}", m % 4)}),
        );
    }
    let mut packages = Map::new();
    for p in 0..105 {
        packages.insert(
            format!("pkg-{p:03}-{}", ["lib", "tools", "common", "data"][p % 4]),
            json!({"version": format!("{}.{}.{}-{}ubuntu{}.{}", p % 7, p % 13, (p + i) % 5, p % 3, p % 4, (p + i) % 9), "arch": if p.is_multiple_of(9) { "all" } else { "amd64" }}),
        );
    }
    let mut cpu = Map::new();
    let flags: Vec<String> = (0..200)
        .map(|f| {
            format!(
                "{}{f}",
                ["sse", "avx512_", "fpu_vme_", "tsc_deadline_", "x2apic"][f % 5]
            )
        })
        .collect();
    for c in 0..4 {
        cpu.insert(
            c.to_string(),
            json!({"vendor_id": "GenuineIntel", "family": "6", "model": "85", "model_name": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
                   "stepping": "7", "mhz": format!("{}.{:03}", 2100 + (i + c) % 7, i % 1000), "cache_size": "28160 KB",
                   "physical_id": "0", "core_id": c.to_string(), "cores": "2", "flags": flags}),
        );
    }
    cpu.insert("total".into(), json!(2));
    cpu.insert("real".into(), json!(1));
    let mut fs = Map::new();
    for d in 0..14 {
        fs.insert(
            format!("/dev/vd{}{}", (b'a' + (d / 4) as u8) as char, d % 4 + 1),
            json!({"kb_size": format!("{}", 10_000_000 + d * 1000 + i), "kb_used": format!("{}", 1_000_000 + (i * 7 + d) % 900_000),
                   "kb_available": format!("{}", 9_000_000 - (i * 7 + d) % 900_000), "percent_used": format!("{}%", (i + d) % 100),
                   "mount": format!("/mnt/data{d}"), "fs_type": "ext4", "mount_options": ["rw", "relatime", "errors=remount-ro"],
                   "uuid": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", i * 7919 + d, d, i % 4096, d, i * 104729)}),
        );
    }
    let mut interfaces = Map::new();
    let ip = format!("10.{}.{}.{}", 1 + i / 62500, (i / 250) % 250, i % 250 + 1);
    for (n, name) in ["lo", "eth0", "eth1"].iter().enumerate() {
        let addr = if n == 0 {
            "127.0.0.1".to_string()
        } else if n == 1 {
            ip.clone()
        } else {
            format!("192.168.{}.{}", i / 250 % 250, i % 250 + 1)
        };
        interfaces.insert(
            name.to_string(),
            json!({"encapsulation": if n == 0 { "Loopback" } else { "Ethernet" }, "mtu": "1500", "state": "up",
                   "flags": ["UP", "BROADCAST", "RUNNING", "MULTICAST"], "number": n.to_string(),
                   "addresses": {addr.clone(): {"family": "inet", "prefixlen": "24", "netmask": "255.255.255.0", "scope": "Global"},
                                 format!("52:54:00:{:02x}:{:02x}:{:02x}", n, i / 256 % 256, i % 256): {"family": "lladdr"}},
                   "routes": [{"destination": "default", "family": "inet", "via": "10.0.0.1"}, {"destination": format!("{addr}/24"), "family": "inet", "scope": "link", "proto": "kernel", "src": addr}],
                   "arp": {"10.0.0.1": "52:54:00:12:34:56"}}),
        );
    }
    let name = format!("node{i:05}");
    let automatic = json!({
        "platform": if i.is_multiple_of(2) { "ubuntu" } else { "centos" }, "platform_version": if i.is_multiple_of(2) { "22.04" } else { "8.5" },
        "platform_family": if i.is_multiple_of(2) { "debian" } else { "rhel" }, "os": "linux", "os_version": "5.15.0-91-generic",
        "hostname": name, "fqdn": format!("{name}.example.com"), "domain": "example.com", "ipaddress": ip,
        "macaddress": format!("52:54:00:01:{:02x}:{:02x}", i / 256 % 256, i % 256), "uptime_seconds": save * 60 + i,
        "memory": {"total": format!("{}kB", 4_000_000 + i * 100), "free": format!("{}kB", 1_000_000 + i), "swap": {"total": "2097148kB", "free": "2097148kB"},
                   "buffers": "123456kB", "cached": "2345678kB", "active": "3456789kB", "inactive": "456789kB"},
        "kernel": {"name": "Linux", "release": format!("5.15.0-{}-generic", 80 + i % 12), "version": "#101-Ubuntu SMP", "machine": "x86_64", "os": "GNU/Linux", "modules": modules},
        "languages": {"ruby": {"version": "3.1.2", "platform": "x86_64-linux", "gems_dir": "/var/lib/gems/3.1.0", "bin_dir": "/usr/bin"},
                      "python": {"version": "3.10.12", "builddate": "Nov 20 2023"}, "perl": {"version": "5.34.0", "archname": "x86_64-linux-gnu-thread-multi"}},
        "cpu": cpu, "filesystem": {"by_device": fs},
        "network": {"interfaces": interfaces, "default_interface": "eth0", "default_gateway": "10.0.0.1"},
        "packages": packages,
        "dmi": {"system": {"manufacturer": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "serial_number": format!("SN{i:08}"), "uuid": format!("{:032x}", i * 2_654_435_761)}},
        "virtualization": {"system": "kvm", "role": "guest"},
        "keys": {"ssh": {"host_rsa_public": format!("AAAAB3NzaC1yc2EAAAADAQABAAABgQ{}", "x".repeat(520)),
                         "host_ecdsa_public": format!("AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY{}", "y".repeat(100)),
                         "host_ed25519_public": format!("AAAAC3NzaC1lZDI1NTE5AAAAI{i:040}"), "host_ecdsa_type": "ecdsa-sha2-nistp256"}},
        "ohai_time": 1_700_000_000.5 + (save * 1800 + i) as f64,
    });
    json!({
        "name": name, "chef_type": "node", "json_class": "Chef::Node",
        "chef_environment": if i % 100 < 10 { "prod" } else { "dev" },
        "run_list": [if i.is_multiple_of(10) { "role[web]" } else { "role[app]" }, "recipe[base]"],
        "normal": {"tags": [format!("rack{}", i % 40)]}, "default": {}, "override": {},
        "automatic": automatic,
    })
}

/// One request, signed before the clock starts.
#[derive(Clone)]
struct Prepared {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Arc<Vec<u8>>>,
}

struct Signer {
    key: RsaPrivateKey,
    user: String,
    base: String,
}

impl Signer {
    fn prepare(&self, method: &str, path_and_query: &str, body: Option<Vec<u8>>) -> Prepared {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let bytes = body.as_deref().unwrap_or_default();
        let mut headers = signed_header::sign(
            &self.key,
            SignVersion::V1_3,
            method,
            path,
            bytes,
            &self.user,
            &ts,
            "1",
        )
        .expect("sign");
        headers.push(("X-Ops-Server-API-Version".into(), "1".into()));
        headers.push(("Accept".into(), "application/json".into()));
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        Prepared {
            method: method.parse().expect("method"),
            url: format!("{}{path_and_query}", self.base),
            headers,
            body: body.map(Arc::new),
        }
    }
}

async fn send(client: &reqwest::Client, p: &Prepared) -> (u16, Vec<u8>) {
    let mut req = client.request(p.method.clone(), &p.url);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    if let Some(b) = &p.body {
        req = req.body(b.as_ref().clone());
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.bytes().await.expect("body").to_vec())
}

struct Figures {
    p50: f64,
    p99: f64,
    per_sec: f64,
    /// CPU time of the whole process (server and client) per request.
    cpu_ms: f64,
}

/// User plus system CPU seconds this process has used (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs each connection's requests in sequence, all connections at once.
async fn measure(client: &reqwest::Client, work: Vec<Vec<Prepared>>) -> Figures {
    let start = Instant::now();
    let cpu = cpu_seconds();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|list| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(list.len());
                for p in &list {
                    let t = Instant::now();
                    let (status, body) = send(&client, p).await;
                    times.push(t.elapsed());
                    assert!(
                        (200..300).contains(&status),
                        "{} {} answered {status}: {}",
                        p.method,
                        p.url,
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    );
                }
                times
            })
        })
        .collect();
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Figures {
        p50: ms(all[all.len() / 2]),
        p99: ms(all[((all.len() as f64 - 1.0) * 0.99) as usize]),
        per_sec: all.len() as f64 / wall,
        cpu_ms: cpu * 1000.0 / all.len() as f64,
    }
}

/// Waits (up to a minute) for background work after seeding (tantivy merging the
/// seeded segments) to finish: until the process uses under a tenth of a core.
async fn settle() {
    let t = Instant::now();
    let mut last = cpu_seconds();
    while t.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_seconds();
        if now - last < 0.05 {
            break;
        }
        last = now;
    }
    println!(
        "(background work after seeding settled in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
}

fn search_path(q: &str, rows: usize) -> String {
    let q: String = q
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/organizations/{ORG}/search/node?q={q}&rows={rows}")
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
    let n: usize = arg("--nodes")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    if args.iter().any(|a| a == "--sample") {
        let sample = node(1, 0);
        let tokens =
            brigade::search::flatten::expand(&brigade::search::flatten::node_view(&sample));
        let keys: std::collections::BTreeSet<&str> = tokens
            .iter()
            .filter_map(|t| t.split_once("__=__").map(|(k, _)| k))
            .collect();
        println!(
            "{} bytes, {} keys, {} tokens",
            sample.to_string().len(),
            keys.len(),
            tokens.len()
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: arg("--database-url").unwrap_or_default(),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = brigade::init_state(config.clone()).await?;
    // The org's admin user (not the superuser), so every request goes through the
    // permission checks and search rows through ACL filtering.
    let base = format!("http://{addr}");
    brigade::bootstrap::bootstrap_org(&state.store, &config, ORG, &base).await?;
    let pem = std::fs::read_to_string(config.keys_dir().join("admin.pem"))?;
    let signer = Arc::new(Signer {
        key: signed_header::parse_private_key(&pem).expect("key"),
        user: "admin".into(),
        base,
    });
    let search = state.search.clone();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{} CPUs; load average before the run: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    tokio::spawn(brigade::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()?;

    let sample = node(1, 0);
    let view = brigade::search::flatten::node_view(&sample);
    let tokens = brigade::search::flatten::expand(&view);
    let keys: std::collections::BTreeSet<&str> = tokens
        .iter()
        .filter_map(|t| t.split_once("__=__").map(|(k, _)| k))
        .collect();
    println!(
        "backend {}; node JSON {} bytes, {} flattened keys, {} index tokens",
        if config.database_url.is_empty() {
            "sqlite"
        } else {
            "postgresql"
        },
        sample.to_string().len(),
        keys.len(),
        tokens.len()
    );

    // Seed over HTTP: 16 connections, each signing and posting its share.
    let t = Instant::now();
    let seeders: Vec<_> = (0..16)
        .map(|c| {
            let (client, signer) = (client.clone(), signer.clone());
            tokio::spawn(async move {
                for i in (c..n).step_by(16) {
                    let body = serde_json::to_vec(&node(i, 0)).expect("json");
                    let p =
                        signer.prepare("POST", &format!("/organizations/{ORG}/nodes"), Some(body));
                    let (status, _) = send(&client, &p).await;
                    assert_eq!(status, 201, "seeding node {i}");
                }
            })
        })
        .collect();
    for s in seeders {
        s.await?;
    }
    let seed_secs = t.elapsed().as_secs_f64();
    if !config.database_url.is_empty() {
        // Statistics as autovacuum keeps them (a test PostgreSQL may run without it):
        // without any, the planner reads search rows through the wrong index.
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&config.database_url).await?;
        sqlx::query("ANALYZE").execute(&mut c).await?;
        println!("(PostgreSQL: ANALYZE run after seeding)");
    }
    println!(
        "seeded {n} nodes over HTTP in {seed_secs:.1} s ({:.0} nodes/s, signing included); index on disk {:.1} MB",
        n as f64 / seed_secs,
        search.size_on_disk() as f64 / 1e6
    );

    settle().await;

    let exact = "role:web AND chef_environment:prod";
    let wildcard = "hostname:node012*";
    let range = "memory_total:[4000000kB TO 4009900kB]";
    let names_only = br#"{"name":["name"]}"#.to_vec();
    let two_attrs = br#"{"ip":["ipaddress"],"kernel":["kernel","release"]}"#.to_vec();
    let ops: Vec<(&str, Prepared, usize)> = vec![
        (
            "exact two-term, full rows",
            signer.prepare("GET", &search_path(exact, 1000), None),
            100,
        ),
        (
            "exact two-term, ids",
            signer.prepare("POST", &search_path(exact, 1000), Some(names_only.clone())),
            100,
        ),
        (
            "trailing wildcard, full rows",
            signer.prepare("GET", &search_path(wildcard, 1000), None),
            100,
        ),
        (
            "trailing wildcard, ids",
            signer.prepare(
                "POST",
                &search_path(wildcard, 1000),
                Some(names_only.clone()),
            ),
            100,
        ),
        (
            "range, full rows",
            signer.prepare("GET", &search_path(range, 1000), None),
            100,
        ),
        (
            "range, ids",
            signer.prepare("POST", &search_path(range, 1000), Some(names_only)),
            100,
        ),
        (
            "partial 2 attrs x 1000 rows",
            signer.prepare(
                "POST",
                &search_path("chef_environment:prod", 1000),
                Some(two_attrs),
            ),
            1000,
        ),
    ];
    println!(
        "\n{:34} {:>5} {:>4} {:>9} {:>9} {:>9} {:>10}",
        "operation", "conns", "rows", "p50 ms", "p99 ms", "req/s", "cpu ms/req"
    );
    for (label, p, want) in &ops {
        let (status, body) = send(&client, p).await;
        let v: Value = serde_json::from_slice(&body)?;
        let rows = v["rows"].as_array().map_or(0, Vec::len);
        assert!(
            status == 200 && v["total"] == json!(rows),
            "{label}: {status} {} rows, total {}",
            rows,
            v["total"]
        );
        if rows != *want {
            println!("({label}: {rows} rows, not {want}, with {n} nodes)");
        }
        let heavy = *want > 100 || label.ends_with("full rows");
        for conns in [1usize, 16] {
            let per = match (heavy, conns) {
                (true, 1) => 40,
                (true, _) => 8,
                (false, 1) => 200,
                (false, _) => 40,
            };
            let f = measure(&client, vec![vec![p.clone(); per]; conns]).await;
            println!(
                "{label:34} {conns:>5} {rows:>4} {:>9.2} {:>9.2} {:>9.0} {:>10.2}",
                f.p50, f.p99, f.per_sec, f.cpu_ms
            );
        }
    }

    // Saves: each PUT a changed node (its own body and signature), different nodes per
    // connection. The answer comes once the change is searchable.
    let mut save = 1;
    for (conns, per) in [(1usize, 300usize), (16, 40)] {
        let work: Vec<Vec<Prepared>> = (0..conns)
            .map(|c| {
                (0..per)
                    .map(|k| {
                        let i = (c * per + k) * 7 % n;
                        let body = serde_json::to_vec(&node(i, save)).expect("json");
                        save += 1;
                        signer.prepare(
                            "PUT",
                            &format!("/organizations/{ORG}/nodes/node{i:05}"),
                            Some(body),
                        )
                    })
                    .collect()
            })
            .collect();
        let f = measure(&client, work).await;
        println!(
            "{:34} {conns:>5} {:>4} {:>9.2} {:>9.2} {:>9.0} {:>10.2}",
            "node save (PUT 27 KB)", 1, f.p50, f.p99, f.per_sec, f.cpu_ms
        );
    }
    // The last save is searchable at once.
    let last = node(((15 * 40) + 39) * 7 % n, save - 1);
    let q = format!("uptime_seconds:{}", last["automatic"]["uptime_seconds"]);
    let p = signer.prepare("GET", &search_path(&q, 10), None);
    let (_, body) = send(&client, &p).await;
    let v: Value = serde_json::from_slice(&body)?;
    assert_eq!(v["total"], json!(1), "last save searchable: {q}");
    println!(
        "\nindex on disk after the saves: {:.1} MB",
        search.size_on_disk() as f64 / 1e6
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average after the run: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

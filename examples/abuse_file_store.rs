//! What unauthenticated file uploads cost the server: `--requests N` (default 16) parallel
//! PUTs of `--mb M` (default 100) MB to `/organizations/ORG/file_store/checksums/MD5`, each
//! with a made-up user and signature, as a hostile client would send them. Prints the
//! answers, the wall time and the server's peak resident memory before and after (the
//! server runs in this process, so VmHWM is its figure). Run with
//! `cargo run --release --example abuse_file_store -- [--requests N] [--mb M]`.

use std::time::Instant;

use brigade::Config;

fn vm_hwm_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let requests = arg("--requests", 16);
    let mb = arg("--mb", 100);
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = brigade::init_state(config).await?;
    brigade::bootstrap::bootstrap_org(
        &state.store,
        &state.config,
        "acme",
        &format!("http://{addr}"),
    )
    .await?;
    tokio::spawn(brigade::serve(listener, state, std::future::pending()));

    let before = vm_hwm_mb();
    let started = Instant::now();
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sum = "0123456789abcdef0123456789abcdef";
    let head = format!(
        "PUT /organizations/acme/file_store/checksums/{sum} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-binary\r\nX-Ops-Sign: version=1.0\r\n\
         X-Ops-Userid: nobody\r\nX-Ops-Timestamp: {ts}\r\n\
         X-Ops-Content-Hash: 2jmj7l5rSw0yVb/vlWAYkK/YBwk=\r\nX-Ops-Authorization-1: Zm9vYmFy\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        mb * 1_000_000
    );
    // One shared megabyte, written over and over: the client itself holds almost nothing.
    let chunk = std::sync::Arc::new(vec![b'x'; 1_000_000]);
    let mut tasks = Vec::new();
    for _ in 0..requests {
        let head = head.clone();
        let chunk = chunk.clone();
        tasks.push(tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let Ok(mut conn) = tokio::net::TcpStream::connect(addr).await else {
                return "connect failed".to_string();
            };
            let (mut rd, mut wr) = conn.split();
            let send = async {
                wr.write_all(head.as_bytes()).await?;
                for _ in 0..mb {
                    wr.write_all(&chunk).await?;
                }
                std::io::Result::Ok(())
            };
            let mut buf = vec![0u8; 512];
            let read = rd.read(&mut buf);
            tokio::pin!(read);
            // The answer may come before the body is sent (the point of the fix).
            let n = tokio::select! {
                r = &mut read => r.unwrap_or(0),
                _ = send => read.await.unwrap_or(0),
            };
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            text.lines().next().unwrap_or("no answer").to_string()
        }));
    }
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        *answers.entry(t.await?).or_default() += 1;
    }
    println!(
        "{requests} unauthenticated PUTs of {mb} MB: answers {answers:?} in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "peak resident memory (VmHWM): before {before} MB, after {} MB",
        vm_hwm_mb()
    );
    Ok(())
}

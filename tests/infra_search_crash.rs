//! A server killed with SIGKILL in the middle of a stream of node writes loses none of the
//! writes it acknowledged: restarted on the same data directory and database, it reads
//! back each one as acknowledged (or newer), and its search index agrees with the
//! database on every node.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use brigade::auth::signed_header::{self, SignVersion};
use common::Actor;
use serde_json::{json, Value};

/// The real `brigade` binary, serving until killed.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `brigade serve` on `127.0.0.1:0` and reads its address from the log.
    fn start(data_dir: &Path, database_url: &str, bootstrap: bool) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_brigade"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if !database_url.is_empty() {
            cmd.args(["--database-url", database_url]);
        }
        if bootstrap {
            cmd.args(["--bootstrap-org", "acme"]);
        }
        let mut child = cmd.spawn().expect("start brigade");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("brigade exited before listening")
                .expect("read log");
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["fields"]["message"] == "listening" {
                break v["fields"]["addr"].as_str().expect("addr").to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    who: Actor,
}

impl Client {
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let sign_path = path.split('?').next().unwrap_or(path);
        let headers = signed_header::sign(
            &self.who.key,
            SignVersion::V1_1,
            method,
            sign_path,
            bytes.as_bytes(),
            &self.who.name,
            &ts,
            "1",
        )
        .expect("sign");
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("X-Ops-Server-API-Version", "1")
            .header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json").body(bytes);
        }
        let r = req.send().await?;
        let status = r.status().as_u16();
        let text = r.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

fn node(name: &str, writer: usize, gen: u32) -> Value {
    json!({"name": name, "chef_environment": "_default", "run_list": ["recipe[base]"],
           "normal": {"gen": gen, "writer": writer}, "automatic": {"platform": "ubuntu"}})
}

/// One writer: creates nodes and saves each again, recording what was acknowledged
/// (node name → generation), until the server goes away.
async fn write_stream(
    c: Arc<Client>,
    writer: usize,
    acked: Arc<Mutex<BTreeMap<String, u32>>>,
    count: tokio::sync::watch::Sender<usize>,
) {
    for k in 0.. {
        let name = format!("w{writer}-{k:04}");
        for (gen, method, path) in [
            (1, "POST", "/organizations/acme/nodes".to_string()),
            (2, "PUT", format!("/organizations/acme/nodes/{name}")),
        ] {
            match c.send(method, &path, Some(&node(&name, writer, gen))).await {
                Ok((status, _)) if (200..300).contains(&status) => {
                    acked.lock().unwrap().insert(name.clone(), gen);
                    count.send_modify(|n| *n += 1);
                }
                Ok((status, body)) => panic!("{method} {name} answered {status}: {body}"),
                Err(_) => return,
            }
        }
    }
}

async fn search_names(c: &Client, q: &str) -> BTreeSet<String> {
    let body = json!({"name": ["name"]});
    let (status, r) = c
        .send(
            "POST",
            &format!("/organizations/acme/search/node?q={q}&rows=100000"),
            Some(&body),
        )
        .await
        .expect("search");
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["total"].as_u64().unwrap() as usize,
        r["rows"].as_array().unwrap().len()
    );
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["data"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_node_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = common::fresh_database(dir.path()).await;
    let _drop_db = common::DropDatabase(pg);
    let mut server = Server::start(dir.path(), &database_url, true);
    let pem = std::fs::read_to_string(dir.path().join("keys/pivotal.pem")).unwrap();
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        who: Actor::new("pivotal", &pem),
    });

    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let (count, mut seen) = tokio::sync::watch::channel(0usize);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(write_stream(
                client.clone(),
                w,
                acked.clone(),
                count.clone(),
            ))
        })
        .collect();
    drop(count);
    seen.wait_for(|n| *n >= 120).await.unwrap();
    server.kill();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60);

    let server = Server::start(dir.path(), &database_url, false);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        who: Actor::new("pivotal", &pem),
    };
    // The database: every acknowledged write, as acknowledged or newer.
    let mut in_db: BTreeMap<String, u64> = BTreeMap::new();
    let (status, list) = client
        .send("GET", "/organizations/acme/nodes", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    for name in list.as_object().unwrap().keys() {
        let (status, n) = client
            .send("GET", &format!("/organizations/acme/nodes/{name}"), None)
            .await
            .unwrap();
        assert_eq!(status, 200);
        in_db.insert(name.clone(), n["normal"]["gen"].as_u64().unwrap());
    }
    for (name, gen) in &acked {
        let stored = in_db
            .get(name)
            .unwrap_or_else(|| panic!("acknowledged {name} lost"));
        assert!(
            *stored >= *gen as u64,
            "{name}: acknowledged gen {gen}, stored {stored}"
        );
    }
    // The index: what matches each generation is exactly what the database holds.
    for gen in [1, 2] {
        let want: BTreeSet<String> = in_db
            .iter()
            .filter(|(_, g)| **g == gen)
            .map(|(n, _)| n.clone())
            .collect();
        assert_eq!(
            search_names(&client, &format!("gen:{gen}")).await,
            want,
            "gen {gen}"
        );
    }
    let all: BTreeSet<String> = in_db.keys().cloned().collect();
    assert_eq!(search_names(&client, "writer:*").await, all);
}

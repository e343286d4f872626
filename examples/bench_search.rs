//! Engine-level search benchmark (no HTTP, no database yet): seeds N ohai-like nodes
//! (~1,000 flattened keys each) into a fresh tantivy index, then times an exact two-term
//! query, a trailing wildcard, a range, and single-node upserts (flatten + commit).
//! `cargo run --release --example bench_search -- [N]` (default 10000).

use std::time::Instant;

use brigade::search::engine::{IndexOp, IndexedDoc, SearchIndex, TantivyIndex};
use brigade::search::{flatten, query};
use serde_json::{json, Map, Value};

fn node(i: usize) -> Value {
    let mut attrs = Map::new();
    for g in 0..40 {
        let mut group = Map::new();
        for k in 0..24 {
            group.insert(
                format!("key{k}"),
                json!(format!("value-{g}-{k}-{}", i % 97)),
            );
        }
        attrs.insert(format!("group{g}"), Value::Object(group));
    }
    attrs.insert(
        "ipaddress".into(),
        json!(format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)),
    );
    attrs.insert(
        "platform".into(),
        json!(if i.is_multiple_of(2) {
            "ubuntu"
        } else {
            "centos"
        }),
    );
    attrs.insert(
        "memory".into(),
        json!({"total": format!("{}", 1000 + i % 9000)}),
    );
    json!({"name": format!("node{i:05}"), "chef_environment": if i.is_multiple_of(10) { "prod" } else { "dev" },
           "run_list": [if i.is_multiple_of(100) { "role[web]" } else { "role[app]" }], "automatic": attrs})
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let ix = TantivyIndex::open(dir.path())?;
    let sample = node(1);
    println!(
        "node JSON {} bytes, {} tokens",
        sample.to_string().len(),
        flatten::expand(&flatten::node_view(&sample)).len()
    );
    let doc = |i: usize| {
        IndexOp::Upsert(IndexedDoc {
            org_id: "o".into(),
            index: "node".into(),
            name: format!("node{i:05}"),
            content: flatten::content(&flatten::node_view(&node(i))),
        })
    };
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        ix.apply(chunk.iter().map(|&i| doc(i)).collect(), 1)?;
    }
    println!(
        "seeded {n} nodes in {:.1}s; index {} MB",
        t.elapsed().as_secs_f64(),
        ix.size_on_disk() / 1_000_000
    );
    for (label, q) in [
        ("exact two-term", "role:web AND chef_environment:prod"),
        ("trailing wildcard", "ipaddress:10.0.1*"),
        ("range", "memory_total:[1000 TO 1099]"),
    ] {
        let parsed = query::parse(q)?;
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..50 {
            let t = Instant::now();
            let hits = ix.search("o", "node", &parsed, 0, 1000)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            total = hits.total;
        }
        println!(
            "{label:18} {q:40} hits {total:5}  p50 {:.2} ms  p99 {:.2} ms",
            pct(times.clone(), 0.5),
            pct(times, 0.99)
        );
    }
    let mut times = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        ix.apply(vec![doc(i)], 2 + i as i64)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "upsert+commit one node   p50 {:.2} ms  p99 {:.2} ms",
        pct(times.clone(), 0.5),
        pct(times, 0.99)
    );
    Ok(())
}

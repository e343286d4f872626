//! Cost of one signed-header verification (1.1 and 1.3) and of one 1.1 signature.

use brigade::auth::signed_header::{self, SignVersion};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let public = key.to_public_key();
    let body = br#"{"name":"web01","run_list":["recipe[base]"]}"#;
    let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for v in [SignVersion::V1_1, SignVersion::V1_3] {
        let headers = signed_header::sign(
            &key,
            v,
            "PUT",
            "/organizations/acme/nodes/web01",
            body,
            "admin",
            &ts,
            "1",
        )
        .unwrap();
        let mut map = http::HeaderMap::new();
        for (k, val) in &headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                val.parse().unwrap(),
            );
        }
        map.insert("x-ops-server-api-version", "1".parse().unwrap());
        let parsed = signed_header::parse_auth_headers(&map, chrono::Utc::now(), 900).unwrap();
        c.bench_function(&format!("verify {}", v.as_str()), |b| {
            b.iter(|| {
                assert!(signed_header::verify(
                    &parsed,
                    "PUT",
                    "/organizations/acme/nodes/web01",
                    body,
                    &public
                ))
            })
        });
    }
    c.bench_function("sign 1.1", |b| {
        b.iter(|| {
            signed_header::sign(
                &key,
                SignVersion::V1_1,
                "GET",
                "/organizations/acme",
                b"",
                "admin",
                &ts,
                "1",
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

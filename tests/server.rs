//! Serving concerns: HTTPS with a generated certificate, default-org paths, healthcheck.

mod common;

use common::TestServer;

#[tokio::test]
async fn self_signed_https_is_generated_once_and_served() {
    let s = TestServer::start().await;
    let mut config = (*s.state.config).clone();
    config.tls.self_signed = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = brigade::AppState::new(config.clone(), s.state.store.clone());
    tokio::spawn(brigade::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut status = None;
    for _ in 0..50 {
        if let Ok(r) = client.get(format!("https://{addr}/_status")).send().await {
            status = Some(r.status().as_u16());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, Some(200));
    let cert = config.data_dir.join("tls/cert.pem");
    let first = std::fs::read_to_string(&cert).unwrap();
    assert!(first.contains("BEGIN CERTIFICATE"));
    // The private key is the server user's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| {
        let m = std::fs::metadata(config.data_dir.join(p)).unwrap();
        m.permissions().mode() & 0o777
    };
    assert_eq!((mode("tls"), mode("tls/key.pem")), (0o700, 0o600));
    // A second start reuses the certificate.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = brigade::AppState::new(config, s.state.store.clone());
    tokio::spawn(brigade::serve(listener, state, std::future::pending()));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), first);
}

#[tokio::test]
async fn default_org_serves_bare_paths_signed_as_sent() {
    let s = TestServer::start_with(|c| c.default_org = "acme".into()).await;
    // The org does not exist yet: the rewritten path reaches the org gate.
    let r = s.get(&s.superuser, "/nodes").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        serde_json::json!({"error": ["organization 'acme' does not exist."]})
    );
    s.create_org("acme").await;
    // The client signed "/nodes"; the server must verify against that, not the rewrite.
    let r = s.get(&s.superuser, "/nodes").await;
    assert_ne!(r.status, 401, "{}", r.text);
    // Global routes are not rewritten.
    assert_eq!(s.get(&s.superuser, "/users/pivotal").await.status, 200);
}

#[tokio::test]
async fn healthcheck_reports_database_and_listener() {
    let s = TestServer::start().await;
    let mut config = (*s.state.config).clone();
    config.listen = s.base.trim_start_matches("http://").to_string();
    brigade::run::healthcheck(config.clone())
        .await
        .expect("healthy");
    config.listen = "127.0.0.1:1".into();
    assert!(
        brigade::run::healthcheck(config).await.is_err(),
        "nothing listens there"
    );
}

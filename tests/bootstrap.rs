//! First start: superuser and bootstrap org, idempotent across restarts.

mod common;

use common::{Actor, TestServer};

#[tokio::test]
async fn bootstrap_org_creates_admin_and_validator_once() {
    let s = TestServer::start().await;
    let cfg = s.state.config.clone();
    brigade::bootstrap::bootstrap_org(&s.state.store, &cfg, "acme", &s.base)
        .await
        .unwrap();
    let keys = cfg.keys_dir();
    let admin_pem = std::fs::read_to_string(keys.join("admin.pem")).unwrap();
    let validator_pem = std::fs::read_to_string(keys.join("acme-validator.pem")).unwrap();
    let admin = Actor::new("admin", &admin_pem);
    let r = s.get(&admin, "/organizations/acme").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&admin, "/users/admin").await;
    assert_eq!(r.status, 200);
    let validator = Actor::new("acme-validator", &validator_pem);
    // The validator authenticates (it has no read right on the org itself).
    assert_eq!(s.get(&validator, "/organizations/acme").await.status, 403);

    let store = &s.state.store;
    let org = store.org_by_name("acme").await.unwrap().unwrap();
    let user = store.user_by_name("admin").await.unwrap().unwrap();
    for g in ["admins", "billing-admins", "users"] {
        assert!(
            store.in_group(&user.id, &org.id, g).await.unwrap(),
            "admin in {g}"
        );
    }

    // Running it again changes nothing: same keys, no error.
    brigade::bootstrap::bootstrap_org(&s.state.store, &cfg, "acme", &s.base)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(keys.join("admin.pem")).unwrap(),
        admin_pem
    );
    assert_eq!(
        std::fs::read_to_string(keys.join("acme-validator.pem")).unwrap(),
        validator_pem
    );
    let pivotal = std::fs::read_to_string(keys.join("pivotal.pem")).unwrap();
    let again = brigade::init_state((*cfg).clone()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(keys.join("pivotal.pem")).unwrap(),
        pivotal
    );
    again.store.close().await;
}

#[tokio::test]
async fn configured_superuser_key_is_used_instead_of_generating() {
    let pair = brigade::auth::keygen::generate().await.unwrap();
    let pem = pair.private_pem.clone();
    let s = TestServer::start_with(|c| {
        c.superuser.name = "root".into();
        c.superuser.key_pem = Some(pem);
    })
    .await;
    assert!(!s.state.config.keys_dir().join("root.pem").exists());
    let root = Actor::new("root", &pair.private_pem);
    assert_eq!(s.get(&root, "/users/root").await.status, 200);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A server on `data_dir` (below the harness's temp dir), SQLite there unless PostgreSQL
/// is under test.
async fn start_in(sub: &'static str, before: impl FnOnce(&std::path::Path)) -> TestServer {
    TestServer::start_with(|c| {
        c.data_dir = c.data_dir.join(sub);
        before(&c.data_dir);
        if c.database_url.starts_with("sqlite:") {
            c.database_url.clear();
        }
    })
    .await
}

#[tokio::test]
async fn a_new_data_dir_is_readable_by_the_server_user_only() {
    let s = start_in("data", |_| {}).await;
    let cfg = s.state.config.clone();
    brigade::bootstrap::bootstrap_org(&s.state.store, &cfg, "acme", &s.base)
        .await
        .unwrap();
    let dir = &cfg.data_dir;
    for sub in ["", "keys", "blobs", "blobs/tmp", "index"] {
        assert_eq!(mode(&dir.join(sub)), 0o700, "{sub:?}");
    }
    let mut files = vec![
        "keys/pivotal.pem",
        "keys/admin.pem",
        "keys/acme-validator.pem",
    ];
    if cfg.effective_database_url().starts_with("sqlite:") {
        files.extend(["brigade.db", "brigade.db-wal", "brigade.db-shm"]);
    }
    for f in files {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
}

#[tokio::test]
async fn an_existing_data_dir_keeps_its_mode_and_new_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = start_in("shared", |dir| {
        std::fs::create_dir(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    })
    .await;
    let cfg = s.state.config.clone();
    // Left as the operator made it (a warning is logged at start).
    assert_eq!(mode(&cfg.data_dir), 0o750);
    assert_eq!(mode(&cfg.keys_dir()), 0o700);
    assert_eq!(mode(&cfg.keys_dir().join("pivotal.pem")), 0o600);
    if cfg.effective_database_url().starts_with("sqlite:") {
        assert_eq!(mode(&cfg.data_dir.join("brigade.db")), 0o600);
    }
}

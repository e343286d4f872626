//! Test harness: starts the real server on `127.0.0.1:0` with a fresh database (a SQLite
//! file in a temp dir, or a fresh PostgreSQL database when `TEST_DATABASE_URL` names an
//! admin connection), and signs requests as a real Chef client does.
#![allow(dead_code)]

use std::sync::Arc;

use brigade::auth::signed_header::{self, SignVersion};
use brigade::{AppState, Config};
use reqwest::Method;
use rsa::RsaPrivateKey;
use serde_json::Value;
use sqlx::Connection;

/// The MD5 hex of a file, as cookbook manifests name it.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// An actor that can sign requests.
#[derive(Clone)]
pub struct Actor {
    pub name: String,
    pub key: Arc<RsaPrivateKey>,
    pub key_pem: String,
}

impl Actor {
    pub fn new(name: &str, pem: &str) -> Actor {
        let key = signed_header::parse_private_key(pem).expect("private key PEM");
        Actor {
            name: name.into(),
            key: Arc::new(key),
            key_pem: pem.into(),
        }
    }
}

pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub superuser: Actor,
    pub data_dir: tempfile::TempDir,
    http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pg_cleanup: Option<(String, String)>,
}

/// A fresh database URL: SQLite in `dir`, or a new PostgreSQL database (with the admin
/// URL and name to drop it by).
pub async fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("brigade_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin.clone());
            (format!("{base}/{name}"), Some((admin, name)))
        }
        _ => (
            format!("sqlite://{}", dir.join("brigade.db").display()),
            None,
        ),
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_cleanup) = fresh_database(data_dir.path()).await;
        let mut config = Config {
            data_dir: data_dir.path().to_path_buf(),
            database_url,
            ..Config::default()
        };
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = brigade::init_state(config.clone())
            .await
            .expect("init state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            let _ = brigade::serve(listener, served, async move {
                let _ = rx.await;
            })
            .await;
        });
        let su = &config.superuser;
        let pem = match &su.key_pem {
            Some(p) => p.clone(),
            None => std::fs::read_to_string(config.keys_dir().join(format!("{}.pem", su.name)))
                .expect("superuser key"),
        };
        TestServer {
            base: format!("http://{addr}"),
            state,
            superuser: Actor::new(&config.superuser.name, &pem),
            data_dir,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            pg_cleanup,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request signed by `actor` with protocol `version` and API version `api`.
    pub async fn signed(
        &self,
        actor: &Actor,
        method: &str,
        path: &str,
        body: Option<&Value>,
        version: SignVersion,
        api: &str,
    ) -> Response {
        let sign_path = path.split('?').next().unwrap_or(path);
        let req = self.signed_request(actor, method, sign_path, path, body, version, api);
        Self::finish(req.send().await.expect("request")).await
    }

    /// A request signed for `sign_path` but sent to `path`, for callers that add headers.
    #[allow(clippy::too_many_arguments)]
    pub fn signed_request(
        &self,
        actor: &Actor,
        method: &str,
        sign_path: &str,
        path: &str,
        body: Option<&Value>,
        version: SignVersion,
        api: &str,
    ) -> reqwest::RequestBuilder {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let headers = signed_header::sign(
            &actor.key,
            version,
            method,
            sign_path,
            bytes.as_bytes(),
            &actor.name,
            &ts,
            api,
        )
        .expect("sign");
        let mut req = self
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                self.url(path),
            )
            .header("X-Ops-Server-API-Version", api)
            .header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json").body(bytes);
        }
        req
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Response {
        Self::finish(req.send().await.expect("request")).await
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.http
    }

    async fn finish(r: reqwest::Response) -> Response {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, actor: &Actor, path: &str) -> Response {
        self.signed(actor, "GET", path, None, SignVersion::V1_1, "1")
            .await
    }
    pub async fn get_v(&self, actor: &Actor, path: &str, api: &str) -> Response {
        self.signed(actor, "GET", path, None, SignVersion::V1_1, api)
            .await
    }
    pub async fn post(&self, actor: &Actor, path: &str, body: &Value) -> Response {
        self.signed(actor, "POST", path, Some(body), SignVersion::V1_1, "1")
            .await
    }
    pub async fn post_v(&self, actor: &Actor, path: &str, body: &Value, api: &str) -> Response {
        self.signed(actor, "POST", path, Some(body), SignVersion::V1_1, api)
            .await
    }
    pub async fn put(&self, actor: &Actor, path: &str, body: &Value) -> Response {
        self.signed(actor, "PUT", path, Some(body), SignVersion::V1_1, "1")
            .await
    }
    pub async fn put_v(&self, actor: &Actor, path: &str, body: &Value, api: &str) -> Response {
        self.signed(actor, "PUT", path, Some(body), SignVersion::V1_1, api)
            .await
    }
    pub async fn delete(&self, actor: &Actor, path: &str) -> Response {
        self.signed(actor, "DELETE", path, None, SignVersion::V1_1, "1")
            .await
    }

    /// Uploads `files` to the org through a sandbox, as knife does (announce, PUT each
    /// needed file to its URL, commit); returns their checksums.
    pub async fn upload_files(&self, who: &Actor, org: &str, files: &[&[u8]]) -> Vec<String> {
        let sums: Vec<String> = files.iter().map(|f| md5_hex(f)).collect();
        let announce: serde_json::Map<String, Value> =
            sums.iter().map(|s| (s.clone(), Value::Null)).collect();
        let path = format!("/organizations/{org}/sandboxes");
        let r = self
            .post(who, &path, &serde_json::json!({ "checksums": announce }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        for (sum, data) in sums.iter().zip(files) {
            let entry = &r.body["checksums"][sum];
            if entry["needs_upload"] == true {
                let put = self
                    .http
                    .put(entry["url"].as_str().unwrap())
                    .header("content-type", "application/x-binary")
                    .body(data.to_vec())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(put.status(), 200);
            }
        }
        let uri = r.body["uri"].as_str().unwrap().to_string();
        let path = uri.strip_prefix(&self.base).unwrap().to_string();
        let c = self
            .put(who, &path, &serde_json::json!({"is_completed": true}))
            .await;
        assert_eq!(c.status, 200, "{}", c.text);
        sums
    }

    /// Creates an org as the superuser; returns its validator.
    pub async fn create_org(&self, name: &str) -> Actor {
        let r = self
            .post(
                &self.superuser,
                "/organizations",
                &serde_json::json!({"name": name, "full_name": name}),
            )
            .await;
        assert_eq!(r.status, 201, "create org {name}: {}", r.text);
        Actor::new(
            &format!("{name}-validator"),
            r.body["private_key"].as_str().unwrap(),
        )
    }

    /// Creates a user with a generated key (API v0) as the superuser.
    pub async fn create_user(&self, name: &str) -> Actor {
        let body = serde_json::json!({
            "username": name, "email": format!("{name}@example.com"),
            "display_name": name, "password": "secret-password"
        });
        let r = self.post_v(&self.superuser, "/users", &body, "0").await;
        assert_eq!(r.status, 201, "create user {name}: {}", r.text);
        Actor::new(name, r.body["private_key"].as_str().unwrap())
    }

    /// Associates a user with an org (directly in the store).
    pub async fn associate(&self, org: &str, user: &str) {
        let store = &self.state.store;
        let o = store.org_by_name(org).await.unwrap().unwrap();
        let u = store.user_by_name(user).await.unwrap().unwrap();
        store.add_org_user(&o.id, &u.id).await.unwrap();
    }

    /// Puts a user in an org's group (directly in the store).
    pub async fn add_to_group(&self, org: &str, group: &str, user: &str) {
        let store = &self.state.store;
        let o = store.org_by_name(org).await.unwrap().unwrap();
        let u = store.user_by_name(user).await.unwrap().unwrap();
        store
            .add_group_member(&o.id, group, "user", &u.id)
            .await
            .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin, name)) = self.pg_cleanup.take() {
            drop_database(admin, name);
        }
    }
}

/// Drops a PostgreSQL database made by `fresh_database` when it goes out of scope.
pub struct DropDatabase(pub Option<(String, String)>);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.0.take() {
            drop_database(admin, name);
        }
    }
}

fn drop_database(admin: String, name: String) {
    // A separate runtime: Drop cannot await, and the test's runtime may be ending.
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        });
    })
    .join();
}

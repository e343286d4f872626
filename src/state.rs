//! Shared application state handed to every handler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rsa::RsaPublicKey;

use crate::blobs::{Blobs, FsBlobStore};
use crate::config::Config;
use crate::search::Search;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keys: Arc<KeyCache>,
    pub blobs: Blobs,
    /// The key that signs file URLs, shared through the database by every process.
    pub file_url_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    pub search: Search,
    /// The secret that signs Compliance access tokens, shared through the database.
    pub compliance_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// `auth.webui_key_file`, parsed: the key of web UI requests made on a user's behalf.
    pub webui_key: Option<Arc<RsaPublicKey>>,
}

impl AppState {
    /// A state with the search index of `config.data_dir` (searches fail, logged, when it
    /// cannot be opened; `init_state` reports that as an error instead).
    pub fn new(config: Config, store: Store) -> Self {
        let search = Search::open(&config.index_dir(), store.clone()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "search index unavailable");
            Search::unavailable()
        });
        Self::with_search(config, store, search)
    }

    pub fn with_search(config: Config, store: Store, search: Search) -> Self {
        let blobs: Blobs = Arc::new(FsBlobStore::new(config.data_dir.join("blobs")));
        AppState {
            config: Arc::new(config),
            store,
            keys: Arc::new(KeyCache::default()),
            blobs,
            file_url_key: Arc::new(tokio::sync::OnceCell::new()),
            compliance_key: Arc::new(tokio::sync::OnceCell::new()),
            search,
            webui_key: None,
        }
    }

    /// The Compliance access-token secret, created by the first process that needs it.
    pub async fn compliance_secret(&self) -> Result<Vec<u8>, sqlx::Error> {
        let key = self
            .compliance_key
            .get_or_try_init(|| async {
                let fresh = crate::auth::jwt::random_secret();
                let v = self
                    .store
                    .setting_or_init("compliance.jwt_secret", &fresh)
                    .await?;
                Ok::<_, sqlx::Error>(v.into_bytes())
            })
            .await?;
        Ok(key.clone())
    }

    /// Reads `auth.webui_key_file` (a private or public PEM) into `webui_key`.
    pub fn load_webui_key(&mut self) -> anyhow::Result<()> {
        let Some(path) = &self.config.auth.webui_key_file else {
            return Ok(());
        };
        let pem = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("webui key {}: {e}", path.display()))?;
        let key = crate::auth::signed_header::parse_public_key(&pem)
            .or_else(|| {
                crate::auth::signed_header::parse_private_key(&pem).map(|k| RsaPublicKey::from(&k))
            })
            .ok_or_else(|| anyhow::anyhow!("webui key {}: not an RSA key", path.display()))?;
        self.webui_key = Some(Arc::new(key));
        Ok(())
    }
}

/// Parsed public keys by their PEM text. The database stays the source of truth (keys are
/// read per request, so a revoked key stops working at once on every process); only the
/// costly PEM → RSA parse is cached, and a changed key is a different PEM.
#[derive(Default)]
pub struct KeyCache {
    parsed: Mutex<HashMap<String, Option<Arc<RsaPublicKey>>>>,
}

const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    pub fn get(&self, pem: &str) -> Option<Arc<RsaPublicKey>> {
        if let Some(hit) = self.parsed.lock().expect("key cache").get(pem) {
            return hit.clone();
        }
        let parsed = crate::auth::signed_header::parse_public_key(pem).map(Arc::new);
        let mut map = self.parsed.lock().expect("key cache");
        if map.len() >= KEY_CACHE_MAX {
            map.clear();
        }
        map.insert(pem.to_string(), parsed.clone());
        parsed
    }
}

//! Shared application state handed to every handler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rsa::RsaPublicKey;

use crate::blobs::{Blobs, FsBlobStore};
use crate::config::Config;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keys: Arc<KeyCache>,
    pub blobs: Blobs,
    /// The key that signs file URLs, shared through the database by every process.
    pub file_url_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl AppState {
    pub fn new(config: Config, store: Store) -> Self {
        let blobs = Arc::new(FsBlobStore::new(config.data_dir.join("blobs")));
        AppState {
            config: Arc::new(config),
            store,
            keys: Arc::new(KeyCache::default()),
            blobs,
            file_url_key: Arc::new(tokio::sync::OnceCell::new()),
        }
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

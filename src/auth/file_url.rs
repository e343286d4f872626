//! Pre-signed cookbook file URLs, as the real server's bookshelf hands out: an HMAC over
//! the method, org, checksum and expiry, so chef-client and knife can fetch or upload a
//! file without a signed header. The key is kept in the database, so every process on
//! one database accepts every other's URLs.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::Result;
use crate::state::AppState;

/// How long a URL stays valid (erchef's default S3 URL TTL).
pub const TTL_SECS: i64 = 900;

async fn key(state: &AppState) -> Result<&[u8]> {
    let key = state
        .file_url_key
        .get_or_try_init(|| async {
            let mut fresh = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut fresh);
            let stored = state
                .store
                .setting_or_init("file_url_key", &hex::encode(fresh))
                .await?;
            hex::decode(stored.trim())
                .map_err(|e| crate::error::Error::Internal(anyhow::anyhow!("file_url_key: {e}")))
        })
        .await?;
    Ok(key.as_slice())
}

fn mac(key: &[u8], method: &str, org: &str, checksum: &str, expires: i64) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(format!("{method}\n{org}\n{checksum}\n{expires}").as_bytes());
    m
}

/// The path (below the base URL) of an org's file.
pub fn path(org: &str, checksum: &str) -> String {
    format!("/organizations/{org}/file_store/checksums/{checksum}")
}

/// A URL for `method` (`GET` or `PUT`) on the org's file, valid for `TTL_SECS`.
pub async fn signed_url(
    state: &AppState,
    base: &str,
    method: &str,
    org: &str,
    checksum: &str,
) -> Result<String> {
    let expires = chrono::Utc::now().timestamp() + TTL_SECS;
    let sig = mac(key(state).await?, method, org, checksum, expires).finalize();
    Ok(format!(
        "{base}{}?expires={expires}&signature={}",
        path(org, checksum),
        hex::encode(sig.into_bytes())
    ))
}

/// Whether a URL's `expires` and `signature` query values grant `method` on the file.
pub async fn verify(
    state: &AppState,
    method: &str,
    org: &str,
    checksum: &str,
    expires: &str,
    signature: &str,
) -> Result<bool> {
    let Ok(expires) = expires.parse::<i64>() else {
        return Ok(false);
    };
    if expires < chrono::Utc::now().timestamp() {
        return Ok(false);
    }
    let Ok(sig) = hex::decode(signature) else {
        return Ok(false);
    };
    let m = mac(key(state).await?, method, org, checksum, expires);
    Ok(m.verify_slice(&sig).is_ok())
}

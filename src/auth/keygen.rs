//! RSA key pairs for new actors. Generating a 2048-bit key costs tens to hundreds of
//! milliseconds, so a small process-wide pool is refilled in the background (erchef keeps a
//! keygen pool for the same reason) and requests only wait when it is empty.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::EncodePublicKey;
use rsa::RsaPrivateKey;

const POOL_TARGET: usize = 4;
const BITS: usize = 2048;

/// A generated key pair in the PEM forms clients receive: PKCS#1 private key (what
/// knife and chef-client read) and SPKI public key.
#[derive(Clone)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pem", &"<redacted>")
            .finish()
    }
}

fn pool() -> &'static Mutex<Vec<KeyPair>> {
    static POOL: OnceLock<Mutex<Vec<KeyPair>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(Vec::new()))
}

fn generate_now() -> anyhow::Result<KeyPair> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), BITS)?;
    Ok(KeyPair {
        private_pem: key.to_pkcs1_pem(LineEnding::LF)?.to_string(),
        public_pem: key.to_public_key().to_public_key_pem(LineEnding::LF)?,
    })
}

/// Whether a refill task is running: one at a time, so concurrent takers never push the
/// pool past its target.
static REFILLING: AtomicBool = AtomicBool::new(false);

fn pool_short() -> bool {
    pool()
        .lock()
        .map(|p| p.len() < POOL_TARGET)
        .unwrap_or(false)
}

/// Tops the pool up to its target, off the async runtime.
fn refill() {
    if REFILLING.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::task::spawn_blocking(|| loop {
        while pool_short() {
            match generate_now() {
                Ok(k) => pool().lock().expect("keygen pool").push(k),
                Err(e) => {
                    tracing::warn!(error = %e, "key generation failed");
                    REFILLING.store(false, Ordering::Release);
                    return;
                }
            }
        }
        REFILLING.store(false, Ordering::Release);
        // A taker that found the flag set just before it cleared left the refill to us.
        if !pool_short() || REFILLING.swap(true, Ordering::AcqRel) {
            return;
        }
    });
}

/// Pooled key pairs ready now, and the pool's target size.
pub fn pool_stats() -> (usize, usize) {
    let ready = pool().lock().map(|p| p.len()).unwrap_or(0);
    (ready, POOL_TARGET)
}

/// Starts filling the pool (called once at server start).
pub fn warm_up() {
    refill();
}

/// Takes a pooled key pair or generates one on a blocking thread.
pub async fn generate() -> anyhow::Result<KeyPair> {
    let pooled = pool().lock().expect("keygen pool").pop();
    refill();
    match pooled {
        Some(k) => Ok(k),
        None => tokio::task::spawn_blocking(generate_now).await?,
    }
}

/// Public key to store and private key to return (when generated) for a key request.
pub async fn fulfil(
    req: &crate::model::key::KeyRequest,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    use crate::model::key::KeyRequest;
    Ok(match req {
        KeyRequest::Nothing => None,
        KeyRequest::Provided(pem) => Some((pem.clone(), None)),
        KeyRequest::Generate => {
            let pair = generate().await?;
            Some((pair.public_pem, Some(pair.private_pem)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_takers_never_overfill_the_pool() {
        let takers: Vec<_> = (0..8).map(|_| tokio::spawn(generate())).collect();
        for t in takers {
            t.await.unwrap().unwrap();
        }
        // Let the refill finish, then the pool is exactly full, never past its target.
        for _ in 0..600 {
            if !REFILLING.load(Ordering::Acquire) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(pool_stats(), (POOL_TARGET, POOL_TARGET));
    }
}

//! Compliance API tokens. Access tokens are JWTs (HS256, 12 hours by default) signed with a
//! secret kept in the database, so every process on one database accepts every other's.
//! Each names the token row it was issued from (`sid`): a password login's session or a
//! refresh token; revoking the row revokes them. Refresh tokens are random secrets that
//! never expire and are stored only as their SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The user's login, for logs and clients that read it.
    pub name: String,
    /// The token row (session or refresh token) this access token came from.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

const ISSUER: &str = "brigade";

/// Signs an access token for `user_id`/`login` from token row `sid`, valid `ttl_secs`.
pub fn issue(secret: &[u8], user_id: &str, login: &str, sid: &str, ttl_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user_id.into(),
        name: login.into(),
        sid: sid.into(),
        iat: now,
        exp: now + ttl_secs,
        iss: ISSUER.into(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 encoding cannot fail")
}

/// The claims of a token this server signed that has not expired; `None` otherwise.
pub fn verify(secret: &[u8], token: &str) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &v)
        .ok()
        .map(|d| d.claims)
}

/// A new random secret: 32 bytes, URL-safe base64.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64URL.encode(bytes)
}

/// How a refresh token is stored (and looked up).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let t = issue(secret, "u1", "alice", "s1", 60);
        let c = verify(secret, &t).expect("valid");
        assert_eq!(
            (c.sub.as_str(), c.name.as_str(), c.sid.as_str()),
            ("u1", "alice", "s1")
        );
        assert!(verify(b"another secret, another server!", &t).is_none());
        let expired = issue(secret, "u1", "alice", "s1", -5);
        assert!(verify(secret, &expired).is_none());
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let t = issue(secret, "u1", "alice", "s1", 60);
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        let claims = B64URL.decode(&parts[1]).unwrap();
        let forged = String::from_utf8(claims)
            .unwrap()
            .replace("\"u1\"", "\"u2\"");
        parts[1] = B64URL.encode(forged);
        assert!(verify(secret, &parts.join(".")).is_none());
        // An unsigned token ("alg": "none") is never accepted.
        let none = format!(
            "{}.{}.",
            B64URL.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert!(verify(secret, &none).is_none());
        assert!(verify(secret, "not a token").is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = random_secret();
        assert_ne!(a, random_secret());
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}

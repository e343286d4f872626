//! Mixlib signed-header authentication (protocols 1.0, 1.1, 1.2 and 1.3): parsing the
//! `X-Ops-*` headers, building the canonical string, verifying and producing signatures.
//! 1.0/1.1 "sign" by RSA private-encrypting the canonical string itself (PKCS#1 v1.5
//! type-1 padding, no digest info); 1.2 and 1.3 are plain RSASSA-PKCS1-v1_5 over SHA-1 and
//! SHA-256.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignVersion {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
}

impl SignVersion {
    pub fn as_str(&self) -> &'static str {
        match self {
            SignVersion::V1_0 => "1.0",
            SignVersion::V1_1 => "1.1",
            SignVersion::V1_2 => "1.2",
            SignVersion::V1_3 => "1.3",
        }
    }

    fn algorithm(&self) -> &'static str {
        if *self == SignVersion::V1_3 {
            "sha256"
        } else {
            "sha1"
        }
    }
}

/// The auth headers of one request, parsed.
#[derive(Debug, Clone)]
pub struct AuthHeaders {
    pub user_id: String,
    pub timestamp: String,
    pub timestamp_parsed: DateTime<Utc>,
    pub version: SignVersion,
    pub sign_header: String,
    pub content_hash: String,
    pub signature: Vec<u8>,
    pub server_api_version: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing required authentication header(s) {0}")]
    MissingHeaders(String),
    #[error("Unsupported authentication protocol version")]
    UnsupportedVersion,
    #[error("bad header(s) 'X-Ops-Timestamp'")]
    BadTimestamp,
    #[error("clock skew")]
    ClockSkew,
    #[error("invalid signature")]
    InvalidSignature,
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn parse_sign(value: &str) -> Result<SignVersion, AuthError> {
    let (mut version, mut algorithm) = (None, None);
    for part in value.split(';') {
        if let Some((k, v)) = part.split_once('=') {
            match k.trim() {
                "version" => version = Some(v.trim()),
                "algorithm" => algorithm = Some(v.trim()),
                _ => {}
            }
        }
    }
    let v = match version {
        Some("1.0") => SignVersion::V1_0,
        Some("1.1") => SignVersion::V1_1,
        Some("1.2") => SignVersion::V1_2,
        Some("1.3") => SignVersion::V1_3,
        _ => return Err(AuthError::UnsupportedVersion),
    };
    match algorithm {
        None => Ok(v),
        Some(a) if a == v.algorithm() => Ok(v),
        Some(_) => Err(AuthError::UnsupportedVersion),
    }
}

fn parse_timestamp(ts: &str) -> Option<DateTime<Utc>> {
    if let Ok(n) = NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ") {
        return Some(n.and_utc());
    }
    DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Parses the headers in erchef's order: presence (400), protocol (400), timestamp (401),
/// skew (401). The signature lines are joined in numeric order up to the first gap.
pub fn parse_auth_headers(
    headers: &http::HeaderMap,
    now: DateTime<Utc>,
    skew_secs: i64,
) -> Result<AuthHeaders, AuthError> {
    const REQUIRED: [(&str, &str); 4] = [
        ("x-ops-userid", "X-Ops-UserId"),
        ("x-ops-timestamp", "X-Ops-Timestamp"),
        ("x-ops-sign", "X-Ops-Sign"),
        ("x-ops-content-hash", "X-Ops-Content-Hash"),
    ];
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|(h, _)| header(headers, h).is_none())
        .map(|(_, shown)| format!("'{shown}'"))
        .collect();
    if !missing.is_empty() {
        return Err(AuthError::MissingHeaders(missing.join(", ")));
    }
    let get = |h: &str| header(headers, h).unwrap_or_default().to_string();
    let sign_header = get("x-ops-sign");
    let version = parse_sign(&sign_header)?;
    let timestamp = get("x-ops-timestamp");
    let timestamp_parsed = parse_timestamp(&timestamp).ok_or(AuthError::BadTimestamp)?;
    if (now - timestamp_parsed).num_seconds().abs() > skew_secs {
        return Err(AuthError::ClockSkew);
    }
    let mut joined = String::new();
    for i in 1.. {
        match header(headers, &format!("x-ops-authorization-{i}")) {
            Some(line) => joined.push_str(line),
            None => break,
        }
    }
    let cleaned: String = joined.chars().filter(|c| !c.is_whitespace()).collect();
    let signature = B64
        .decode(cleaned)
        .map_err(|_| AuthError::InvalidSignature)?;
    if signature.is_empty() {
        return Err(AuthError::InvalidSignature);
    }
    Ok(AuthHeaders {
        user_id: get("x-ops-userid"),
        timestamp,
        timestamp_parsed,
        version,
        sign_header,
        content_hash: get("x-ops-content-hash"),
        signature,
        server_api_version: header(headers, "x-ops-server-api-version")
            .unwrap_or("0")
            .to_string(),
    })
}

/// Collapses runs of `/` and drops a trailing `/` (except for the root).
pub fn canonical_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn sha1_b64(data: &[u8]) -> String {
    B64.encode(Sha1::digest(data))
}

/// The body hash of a protocol, computed over a body that arrives in pieces.
pub enum BodyHasher {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl BodyHasher {
    pub fn new(version: SignVersion) -> Self {
        match version {
            SignVersion::V1_3 => BodyHasher::Sha256(Sha256::new()),
            _ => BodyHasher::Sha1(Sha1::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            BodyHasher::Sha1(h) => h.update(data),
            BodyHasher::Sha256(h) => h.update(data),
        }
    }

    /// The base64 digest, as `X-Ops-Content-Hash` carries it.
    pub fn finish(self) -> String {
        match self {
            BodyHasher::Sha1(h) => B64.encode(h.finalize()),
            BodyHasher::Sha256(h) => B64.encode(h.finalize()),
        }
    }
}

pub fn hash_body(version: SignVersion, body: &[u8]) -> String {
    match version {
        SignVersion::V1_3 => B64.encode(Sha256::digest(body)),
        _ => sha1_b64(body),
    }
}

pub fn canonical_string(
    version: SignVersion,
    method: &str,
    path: &str,
    content_hash: &str,
    timestamp: &str,
    user_id: &str,
    server_api_version: &str,
) -> String {
    let method = method.to_ascii_uppercase();
    let path = canonical_path(path);
    match version {
        SignVersion::V1_3 => format!(
            "Method:{method}\nPath:{path}\nX-Ops-Content-Hash:{content_hash}\nX-Ops-Sign:version=1.3\nX-Ops-Timestamp:{timestamp}\nX-Ops-UserId:{user_id}\nX-Ops-Server-API-Version:{server_api_version}"
        ),
        _ => {
            let user = if version == SignVersion::V1_0 { user_id.to_string() } else { sha1_b64(user_id.as_bytes()) };
            format!(
                "Method:{method}\nHashed Path:{}\nX-Ops-Content-Hash:{content_hash}\nX-Ops-Timestamp:{timestamp}\nX-Ops-UserId:{user}",
                sha1_b64(path.as_bytes())
            )
        }
    }
}

/// Checks the body hash (1.0–1.2) and the signature of a request against one key.
pub fn verify(h: &AuthHeaders, method: &str, path: &str, body: &[u8], key: &RsaPublicKey) -> bool {
    verify_hash(h, method, path, &hash_body(h.version, body), key)
}

/// `verify` with the body's hash computed by the caller. Passing the request's own
/// `X-Ops-Content-Hash` checks the signature before the body is read; the caller must then
/// check that the body hashes to it (`BodyHasher`).
pub fn verify_hash(
    h: &AuthHeaders,
    method: &str,
    path: &str,
    hash: &str,
    key: &RsaPublicKey,
) -> bool {
    if h.version != SignVersion::V1_3 && hash != h.content_hash {
        return false;
    }
    let canonical = canonical_string(
        h.version,
        method,
        path,
        hash,
        &h.timestamp,
        &h.user_id,
        &h.server_api_version,
    );
    match h.version {
        SignVersion::V1_0 | SignVersion::V1_1 => key
            .verify(
                Pkcs1v15Sign::new_unprefixed(),
                canonical.as_bytes(),
                &h.signature,
            )
            .is_ok(),
        SignVersion::V1_2 => key
            .verify(
                Pkcs1v15Sign::new::<Sha1>(),
                &Sha1::digest(canonical.as_bytes()),
                &h.signature,
            )
            .is_ok(),
        SignVersion::V1_3 => key
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(canonical.as_bytes()),
                &h.signature,
            )
            .is_ok(),
    }
}

/// Signs a request as mixlib-authentication does; returns the headers to send.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    key: &RsaPrivateKey,
    version: SignVersion,
    method: &str,
    path: &str,
    body: &[u8],
    user_id: &str,
    timestamp: &str,
    server_api_version: &str,
) -> Result<Vec<(String, String)>, rsa::Error> {
    let hash = hash_body(version, body);
    let canonical = canonical_string(
        version,
        method,
        path,
        &hash,
        timestamp,
        user_id,
        server_api_version,
    );
    let sig = match version {
        SignVersion::V1_0 | SignVersion::V1_1 => {
            key.sign(Pkcs1v15Sign::new_unprefixed(), canonical.as_bytes())?
        }
        SignVersion::V1_2 => key.sign(
            Pkcs1v15Sign::new::<Sha1>(),
            &Sha1::digest(canonical.as_bytes()),
        )?,
        SignVersion::V1_3 => key.sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(canonical.as_bytes()),
        )?,
    };
    let mut out = vec![
        (
            "X-Ops-Sign".to_string(),
            format!(
                "algorithm={};version={};",
                version.algorithm(),
                version.as_str()
            ),
        ),
        ("X-Ops-Userid".to_string(), user_id.to_string()),
        ("X-Ops-Timestamp".to_string(), timestamp.to_string()),
        ("X-Ops-Content-Hash".to_string(), hash),
    ];
    let encoded = B64.encode(sig);
    for (i, chunk) in encoded.as_bytes().chunks(60).enumerate() {
        out.push((
            format!("X-Ops-Authorization-{}", i + 1),
            String::from_utf8_lossy(chunk).into_owned(),
        ));
    }
    Ok(out)
}

pub fn parse_public_key(pem: &str) -> Option<RsaPublicKey> {
    let pem = pem.trim().replace("\r\n", "\n");
    RsaPublicKey::from_public_key_pem(&pem)
        .ok()
        .or_else(|| RsaPublicKey::from_pkcs1_pem(&pem).ok())
}

pub fn parse_private_key(pem: &str) -> Option<RsaPrivateKey> {
    let pem = pem.trim().replace("\r\n", "\n");
    RsaPrivateKey::from_pkcs1_pem(&pem)
        .ok()
        .or_else(|| RsaPrivateKey::from_pkcs8_pem(&pem).ok())
}

#[cfg(test)]
mod tests {
    //! The published mixlib-authentication test vectors (facts §B.5) and the negative
    //! cases of the same spec.

    use super::*;

    const KEY: &str = include_str!("../../tests/support/spec_key.pem");
    const BODY: &[u8] = b"Spec Body";
    const PATH: &str = "/organizations/clownco";
    const USER: &str = "spec-user";
    const TS: &str = "2009-01-01T12:00:00Z";
    const V10: [&str; 6] = [
        "jVHrNniWzpbez/eGWjFnO6lINRIuKOg40ZTIQudcFe47Z9e/HvrszfVXlKG4",
        "NMzYZgyooSvU85qkIUmKuCqgG2AIlvYa2Q/2ctrMhoaHhLOCWWoqYNMaEqPc",
        "3tKHE+CfvP+WuPdWk4jv4wpIkAz6ZLxToxcGhXmZbXpk56YTmqgBW2cbbw4O",
        "IWPZDHSiPcw//AYNgW1CCDptt+UFuaFYbtqZegcBd2n/jzcWODA7zL4KWEUy",
        "9q4rlh/+1tBReg60QdsmDRsw/cdO1GZrKtuCwbuD4+nbRdVBKv72rqHX9cu0",
        "utju9jzczCyB+sSAQWrxSsXB/b8vV2qs0l4VD2ML+w==",
    ];
    const V11: [&str; 6] = [
        "UfZD9dRz6rFu6LbP5Mo1oNHcWYxpNIcUfFCffJS1FQa0GtfU/vkt3/O5HuCM",
        "1wIFl/U0f5faH9EWpXWY5NwKR031Myxcabw4t4ZLO69CIh/3qx1XnjcZvt2w",
        "c2R9bx/43IWA/r8w8Q6decuu0f6ZlNheJeJhaYPI8piX/aH+uHBH8zTACZu8",
        "vMnl5MF3/OIlsZc8cemq6eKYstp8a8KYq9OmkB5IXIX6qVMJHA6fRvQEB/7j",
        "281Q7oI/O+lE8AmVyBbwruPb7Mp6s4839eYiOdjbDwFjYtbS3XgAjrHlaD7W",
        "FDlbAG7H8Dmvo+wBxmtNkszhzbBnEYtuwQqT8nM/8A==",
    ];
    const V13: [&str; 6] = [
        "FZOmXAyOBAZQV/uw188iBljBJXOm+m8xQ/8KTGLkgGwZNcRFxk1m953XjE3W",
        "VGy1dFT76KeaNWmPCNtDmprfH2na5UZFtfLIKrPv7xm80V+lzEzTd9WBwsfP",
        "42dZ9N+V9I5SVfcL/lWrrlpdybfceJC5jOcP5tzfJXWUITwb6Z3Erg3DU3Uh",
        "H9h9E0qWlYGqmiNCVrBnpe6Si1gU/Jl+rXlRSNbLJ4GlArAPuL976iTYJTzE",
        "MmbLUIm3JRYi00Yb01IUCCKdI90vUq1HHNtlTEu93YZfQaJwRxXlGkCNwIJe",
        "fy49QzaCIEu1XiOx5Jn+4GmkrZch/RrK9VzQWXgs+w==",
    ];

    fn key() -> RsaPrivateKey {
        parse_private_key(KEY).unwrap()
    }

    fn at() -> DateTime<Utc> {
        parse_timestamp(TS).unwrap()
    }

    fn header_map(pairs: &[(String, String)], api: Option<&str>) -> http::HeaderMap {
        let mut m = http::HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        if let Some(a) = api {
            m.insert("X-OPS-SERVER-API-VERSION", a.parse().unwrap());
        }
        m
    }

    fn auth_lines(pairs: &[(String, String)]) -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k.starts_with("X-Ops-Authorization-"))
            .map(|(_, v)| v.clone())
            .collect()
    }

    #[test]
    fn canonical_strings_match_the_published_ones() {
        let sha1_body = "DFteJZPVv6WKdQmMqZUQUumUyRs=";
        let sha256_body = "hDlKNZhIhgso3Fs0S0pZwJ0xyBWtR1RBaeHs1DrzOho=";
        assert_eq!(hash_body(SignVersion::V1_0, BODY), sha1_body);
        assert_eq!(hash_body(SignVersion::V1_3, BODY), sha256_body);
        assert_eq!(
            canonical_string(SignVersion::V1_0, "post", PATH, sha1_body, TS, USER, "1"),
            "Method:POST\nHashed Path:YtBWDn1blGGuFIuKksdwXzHU9oE=\nX-Ops-Content-Hash:DFteJZPVv6WKdQmMqZUQUumUyRs=\nX-Ops-Timestamp:2009-01-01T12:00:00Z\nX-Ops-UserId:spec-user"
        );
        assert_eq!(
            canonical_string(SignVersion::V1_1, "POST", PATH, sha1_body, TS, USER, "1"),
            "Method:POST\nHashed Path:YtBWDn1blGGuFIuKksdwXzHU9oE=\nX-Ops-Content-Hash:DFteJZPVv6WKdQmMqZUQUumUyRs=\nX-Ops-Timestamp:2009-01-01T12:00:00Z\nX-Ops-UserId:EAF7Wv/hbAudWV5ZkwKz40Z/lO0="
        );
        assert_eq!(
            canonical_string(SignVersion::V1_3, "POST", PATH, sha256_body, TS, USER, "1"),
            "Method:POST\nPath:/organizations/clownco\nX-Ops-Content-Hash:hDlKNZhIhgso3Fs0S0pZwJ0xyBWtR1RBaeHs1DrzOho=\nX-Ops-Sign:version=1.3\nX-Ops-Timestamp:2009-01-01T12:00:00Z\nX-Ops-UserId:spec-user\nX-Ops-Server-API-Version:1"
        );
    }

    #[test]
    fn signing_reproduces_the_published_signatures_and_they_verify() {
        let public = key().to_public_key();
        for (v, expected, sign_value) in [
            (SignVersion::V1_0, V10, "algorithm=sha1;version=1.0;"),
            (SignVersion::V1_1, V11, "algorithm=sha1;version=1.1;"),
            (SignVersion::V1_3, V13, "algorithm=sha256;version=1.3;"),
        ] {
            let pairs = sign(&key(), v, "POST", PATH, BODY, USER, TS, "1").unwrap();
            assert_eq!(auth_lines(&pairs), expected, "{v:?}");
            assert!(pairs.contains(&("X-Ops-Sign".to_string(), sign_value.to_string())));
            let h = parse_auth_headers(&header_map(&pairs, Some("1")), at(), 900).unwrap();
            assert_eq!(h.version, v);
            assert!(verify(&h, "POST", PATH, BODY, &public), "{v:?}");
            assert!(
                !verify(&h, "POST", PATH, b"Spec Body!", &public),
                "{v:?} body tamper"
            );
            assert!(
                !verify(&h, "PUT", PATH, BODY, &public),
                "{v:?} method tamper"
            );
            assert!(
                !verify(&h, "POST", "/organizations/other", BODY, &public),
                "{v:?} path tamper"
            );
        }
    }

    #[test]
    fn published_negative_cases_are_rejected() {
        let public = key().to_public_key();
        for v in [SignVersion::V1_1, SignVersion::V1_3] {
            let mut pairs = sign(&key(), v, "POST", PATH, BODY, USER, TS, "1").unwrap();
            for (k, val) in pairs.iter_mut() {
                if k == "X-Ops-Authorization-1" {
                    *val = "epicfail".into();
                }
            }
            let ok = parse_auth_headers(&header_map(&pairs, Some("1")), at(), 900)
                .map(|h| verify(&h, "POST", PATH, BODY, &public))
                .unwrap_or(false);
            assert!(!ok, "{v:?} epicfail");

            let mut pairs = sign(&key(), v, "POST", PATH, BODY, USER, TS, "1").unwrap();
            for (k, val) in pairs.iter_mut() {
                if k == "X-Ops-Content-Hash" {
                    val.push('_');
                }
            }
            let h = parse_auth_headers(&header_map(&pairs, Some("1")), at(), 900).unwrap();
            if v != SignVersion::V1_3 {
                assert!(
                    !verify(&h, "POST", PATH, BODY, &public),
                    "{v:?} content hash"
                );
            }
        }
        let mut pairs = sign(&key(), SignVersion::V1_1, "POST", PATH, BODY, USER, TS, "1").unwrap();
        pairs.retain(|(k, _)| k != "X-Ops-Sign");
        assert_eq!(
            parse_auth_headers(&header_map(&pairs, None), at(), 900).unwrap_err(),
            AuthError::MissingHeaders("'X-Ops-Sign'".into())
        );
        let pairs = sign(&key(), SignVersion::V1_1, "POST", PATH, BODY, USER, TS, "1").unwrap();
        for skew in [-1000, 1000] {
            let now = at() + chrono::Duration::seconds(skew);
            assert_eq!(
                parse_auth_headers(&header_map(&pairs, None), now, 900).unwrap_err(),
                AuthError::ClockSkew
            );
        }
    }

    #[test]
    fn long_user_ids_need_protocol_1_1() {
        let long = "x".repeat(200);
        assert!(sign(
            &key(),
            SignVersion::V1_0,
            "POST",
            PATH,
            BODY,
            &long,
            TS,
            "0"
        )
        .is_err());
        let pairs = sign(
            &key(),
            SignVersion::V1_1,
            "POST",
            PATH,
            BODY,
            &long,
            TS,
            "0",
        )
        .unwrap();
        let h = parse_auth_headers(&header_map(&pairs, None), at(), 900).unwrap();
        assert!(verify(&h, "POST", PATH, BODY, &key().to_public_key()));
    }

    #[test]
    fn sign_header_forms() {
        assert_eq!(parse_sign("version=1.0").unwrap(), SignVersion::V1_0);
        assert_eq!(
            parse_sign("algorithm=sha1;version=1.1;").unwrap(),
            SignVersion::V1_1
        );
        assert_eq!(
            parse_sign("algorithm=sha256;version=1.3").unwrap(),
            SignVersion::V1_3
        );
        assert_eq!(parse_sign("version=1.2").unwrap(), SignVersion::V1_2);
        assert!(parse_sign("algorithm=sha256;version=1.1").is_err());
        assert!(parse_sign("algorithm=sha1;version=1.3").is_err());
        assert!(parse_sign("version=2.0").is_err());
        assert!(parse_sign("garbage").is_err());
    }

    #[test]
    fn protocol_1_2_round_trips() {
        let pairs = sign(
            &key(),
            SignVersion::V1_2,
            "GET",
            "/users/x",
            b"",
            USER,
            TS,
            "0",
        )
        .unwrap();
        let h = parse_auth_headers(&header_map(&pairs, None), at(), 900).unwrap();
        assert!(verify(&h, "GET", "/users/x", b"", &key().to_public_key()));
    }

    #[test]
    fn missing_headers_are_listed_in_canonical_order() {
        let err = parse_auth_headers(&http::HeaderMap::new(), at(), 900).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required authentication header(s) 'X-Ops-UserId', 'X-Ops-Timestamp', 'X-Ops-Sign', 'X-Ops-Content-Hash'"
        );
        let mut pairs = sign(&key(), SignVersion::V1_1, "GET", PATH, b"", USER, TS, "0").unwrap();
        pairs.retain(|(k, _)| !k.starts_with("X-Ops-Authorization"));
        assert_eq!(
            parse_auth_headers(&header_map(&pairs, None), at(), 900).unwrap_err(),
            AuthError::InvalidSignature
        );
        let pairs: Vec<_> = sign(
            &key(),
            SignVersion::V1_1,
            "GET",
            PATH,
            b"",
            USER,
            "not a time",
            "0",
        )
        .unwrap();
        assert_eq!(
            parse_auth_headers(&header_map(&pairs, None), at(), 900).unwrap_err(),
            AuthError::BadTimestamp
        );
    }

    #[test]
    fn streamed_hash_matches_whole_hash() {
        let body = b"a body that arrives in several pieces".repeat(100);
        for v in [SignVersion::V1_0, SignVersion::V1_1, SignVersion::V1_3] {
            let mut h = BodyHasher::new(v);
            for piece in body.chunks(7) {
                h.update(piece);
            }
            assert_eq!(h.finish(), hash_body(v, &body));
        }
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(canonical_path("//a///b/"), "/a/b");
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("///"), "/");
        assert_eq!(canonical_path(""), "/");
        assert_eq!(
            canonical_path("/organizations/acme/nodes/"),
            "/organizations/acme/nodes"
        );
        assert_eq!(canonical_path("/a%2Fb"), "/a%2Fb");
    }

    #[test]
    fn public_keys_in_both_pem_forms() {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::EncodePublicKey;
        let public = key().to_public_key();
        let spki = public
            .to_public_key_pem(rsa::pkcs8::LineEnding::CRLF)
            .unwrap();
        let pkcs1 = public.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert_eq!(parse_public_key(&spki).unwrap(), public);
        assert_eq!(parse_public_key(&pkcs1).unwrap(), public);
        assert!(
            parse_public_key("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----")
                .is_none()
        );
    }
}

//! Key rules shared by users and clients: what a create or update asks for, by API
//! version, and how expiration dates are written.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::api::{opt_bool, opt_str};
use crate::error::{Error, Result};

/// What a user/client create (or a v0 update) asks to happen to the default key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRequest {
    /// Generate a pair; the private half is returned once.
    Generate,
    /// Store this public key.
    Provided(String),
    /// No key at all (v1+ without `public_key`/`create_key`).
    Nothing,
}

pub const INVALID_PUBLIC_KEY: &str = "Public Key must be a valid key.";
pub const INVALID_DATE: &str = "Field expiration_date is invalid. All dates must be a valid date in ISO8601 form of exactly YYYY-MM-DDThh:mm:ss, eg 2099-02-28T01:00:00, or the string \"infinity\". All times are assumed UTC, so do not include a Z on the end of your date.";

/// A PEM public key is acceptable when it is SPKI or PKCS#1 and parses.
pub fn check_public_key(pem: &str) -> Result<()> {
    let t = pem.trim_start();
    let shaped =
        t.starts_with("-----BEGIN PUBLIC KEY") || t.starts_with("-----BEGIN RSA PUBLIC KEY");
    if shaped && crate::auth::signed_header::parse_public_key(pem).is_some() {
        Ok(())
    } else {
        Err(Error::bad_request(INVALID_PUBLIC_KEY))
    }
}

/// The key an actor create asks for. v0 generates unless a key is given; v1+ needs
/// exactly one of `public_key` and `create_key: true`.
pub fn creation_request(body: &Map<String, Value>, version: u8) -> Result<KeyRequest> {
    let public_key = opt_str(body, "public_key")?;
    let create_key = opt_bool(body, "create_key")?.unwrap_or(false);
    if version == 0 {
        return match public_key {
            Some(pem) => check_public_key(pem).map(|_| KeyRequest::Provided(pem.to_string())),
            None => Ok(KeyRequest::Generate),
        };
    }
    if opt_bool(body, "private_key")? == Some(true) {
        return Err(Error::bad_request(
            "Please use create_key: true instead of private_key: true",
        ));
    }
    match (public_key, create_key) {
        (Some(_), true) => Err(Error::bad_request(
            "You must specify either create_key or public_key, but not both",
        )),
        (Some(pem), false) => check_public_key(pem).map(|_| KeyRequest::Provided(pem.to_string())),
        (None, true) => Ok(KeyRequest::Generate),
        (None, false) => Ok(KeyRequest::Nothing),
    }
}

/// The default-key change an actor update (PUT of a user or client) asks for: v0 may
/// send `public_key` or `private_key: true` (regenerate); v1+ must use the keys API.
pub fn update_request(body: &Map<String, Value>, version: u8) -> Result<Option<KeyRequest>> {
    if version > 0 {
        if ["public_key", "private_key", "create_key"]
            .iter()
            .any(|k| body.contains_key(*k))
        {
            return Err(Error::bad_request(
                "Since Server API v1, all keys must be updated via the keys endpoint. ",
            ));
        }
        return Ok(None);
    }
    match (opt_str(body, "public_key")?, opt_bool(body, "private_key")?) {
        (_, Some(true)) => Ok(Some(KeyRequest::Generate)),
        (Some(pem), _) => {
            check_public_key(pem).map(|_| Some(KeyRequest::Provided(pem.to_string())))
        }
        _ => Ok(None),
    }
}

/// Parses `expiration_date`: "infinity" (→ `None`) or `YYYY-MM-DDThh:mm:ssZ`.
pub fn parse_expiration(s: &str) -> Result<Option<DateTime<Utc>>> {
    if s == "infinity" {
        return Ok(None);
    }
    let bare = s.strip_suffix('Z').unwrap_or(s);
    NaiveDateTime::parse_from_str(bare, "%Y-%m-%dT%H:%M:%S")
        .map(|n| Some(n.and_utc()))
        .map_err(|_| Error::bad_request(INVALID_DATE))
}

pub fn format_expiration(e: Option<DateTime<Utc>>) -> String {
    match e {
        None => "infinity".into(),
        Some(d) => d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn v0_generates_by_default() {
        assert_eq!(
            creation_request(&obj(json!({})), 0).unwrap(),
            KeyRequest::Generate
        );
    }

    #[test]
    fn v1_rules() {
        assert_eq!(
            creation_request(&obj(json!({})), 1).unwrap(),
            KeyRequest::Nothing
        );
        assert_eq!(
            creation_request(&obj(json!({"create_key": true})), 1).unwrap(),
            KeyRequest::Generate
        );
        assert!(creation_request(&obj(json!({"create_key": true, "public_key": "x"})), 1).is_err());
        assert!(creation_request(&obj(json!({"private_key": true})), 2).is_err());
        assert!(creation_request(&obj(json!({"public_key": "not a key"})), 1).is_err());
    }

    #[test]
    fn expiration_dates() {
        assert_eq!(parse_expiration("infinity").unwrap(), None);
        let d = parse_expiration("2099-02-28T01:00:00Z").unwrap();
        assert_eq!(format_expiration(d), "2099-02-28T01:00:00Z");
        assert!(parse_expiration("2099-02-30T01:00:00Z").is_err());
        assert!(parse_expiration("tomorrow").is_err());
    }
}

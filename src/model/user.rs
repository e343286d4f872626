//! Users (erchef `chef_user`): validation of create/update bodies and the JSON they are
//! shown as.

use serde_json::{Map, Value};

use super::names;
use crate::api::{opt_bool, opt_str};
use crate::error::{Error, Result};
use crate::store::users::UserRow;

/// Profile fields that are stored and shown back.
pub const PROFILE_FIELDS: [&str; 8] = [
    "display_name",
    "first_name",
    "last_name",
    "middle_name",
    "city",
    "country",
    "twitter_account",
    "image_file_name",
];

/// The validated fields of a user create or update body.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub username: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub external_authentication_uid: Option<String>,
    pub recovery_authentication_enabled: Option<bool>,
    pub profile: Map<String, Value>,
}

/// Validates a body. An update (`existing` given) is a whole user as a create is
/// (`username`, `display_name`, and `email` unless external authentication is set), but
/// the password is optional and profile fields not named keep their values (a `null`
/// removes one).
pub fn parse(body: &Map<String, Value>, existing: Option<&UserRow>) -> Result<UserInput> {
    let username = match (opt_str(body, "username")?, opt_str(body, "name")?) {
        (Some(u), _) | (None, Some(u)) => u.to_string(),
        (None, None) => return Err(Error::bad_request("Field 'username' missing")),
    };
    if !names::is_user_name(&username) {
        return Err(Error::bad_request(
            "Field 'username' invalid : Malformed user name. Must only contain a-z, 0-9, _, or -",
        ));
    }
    let external = opt_str(body, "external_authentication_uid")?.map(str::to_string);
    let email = match opt_str(body, "email")? {
        Some(e) if names::is_email(e) => Some(e.to_lowercase()),
        Some(_) => return Err(Error::bad_request("Field 'email' invalid")),
        None if external.is_some()
            || existing.is_some_and(|e| e.external_authentication_uid.is_some()) =>
        {
            existing.and_then(|e| e.email.clone())
        }
        None => return Err(Error::bad_request("Field 'email' missing")),
    };
    let password = opt_str(body, "password")?.map(str::to_string);
    match &password {
        Some(p) if p.chars().count() < 6 => {
            return Err(Error::bad_request(
                "Password must have at least 6 characters",
            ))
        }
        None if existing.is_none() && external.is_none() => {
            return Err(Error::bad_request("Field 'password' missing"))
        }
        _ => {}
    }
    let mut profile = match existing {
        Some(e) => stored_profile(e),
        None => Map::new(),
    };
    for field in PROFILE_FIELDS {
        match body.get(field) {
            None => {}
            Some(Value::Null) => {
                profile.remove(field);
            }
            Some(Value::String(s)) => {
                profile.insert(field.to_string(), Value::String(s.clone()));
            }
            Some(_) => return Err(Error::bad_request(format!("Field '{field}' invalid"))),
        }
    }
    if !matches!(body.get("display_name"), Some(Value::String(_))) {
        return Err(Error::bad_request("Field 'display_name' missing"));
    }
    Ok(UserInput {
        username,
        email,
        password,
        external_authentication_uid: external
            .or_else(|| existing.and_then(|e| e.external_authentication_uid.clone())),
        recovery_authentication_enabled: opt_bool(body, "recovery_authentication_enabled")?,
        profile,
    })
}

pub fn stored_profile(row: &UserRow) -> Map<String, Value> {
    serde_json::from_str(&row.serialized_object).unwrap_or_default()
}

/// The user as `GET /users/NAME` shows it; v0 adds the default public key.
pub fn render(row: &UserRow, public_key: Option<&str>) -> Value {
    let mut out = Map::new();
    out.insert("username".into(), Value::String(row.username.clone()));
    if let Some(e) = &row.email {
        out.insert("email".into(), Value::String(e.clone()));
    }
    for (k, v) in stored_profile(row) {
        out.insert(k, v);
    }
    if let Some(pk) = public_key {
        out.insert("public_key".into(), Value::String(pk.to_string()));
    }
    Value::Object(out)
}

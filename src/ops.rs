//! Operations shared by API handlers and admin commands (bootstrap, `org-create`, …).

use serde_json::{json, Value};

use crate::auth::keygen;
use crate::error::{Error, Message, Result};
use crate::store::clients::ClientRow;
use crate::store::keys::KeyRow;
use crate::store::objects::ObjectRow;
use crate::store::orgs::{NewOrg, OrgRow};
use crate::store::{new_id, now, Store};

pub fn org_exists() -> Error {
    Error::Conflict(Message::Bare("Organization already exists".into()))
}

/// The environment every org starts with.
pub fn default_environment() -> Value {
    json!({
        "name": "_default",
        "description": "The default Chef environment",
        "json_class": "Chef::Environment",
        "chef_type": "environment",
        "default_attributes": {},
        "override_attributes": {},
        "cookbook_versions": {},
    })
}

/// Creates an org on behalf of `creator` (a user id) and returns it with the validator's
/// private key. Shared by `POST /organizations` and the bootstrap.
pub async fn create_org(
    store: &Store,
    name: &str,
    full_name: &str,
    creator_id: &str,
    creator_is_superuser: bool,
) -> Result<(OrgRow, String)> {
    let ts = now();
    let org = OrgRow {
        id: new_id(),
        name: name.into(),
        full_name: full_name.into(),
        created_at: ts,
        updated_at: ts,
    };
    let validator = ClientRow {
        id: new_id(),
        org_id: org.id.clone(),
        name: format!("{name}-validator"),
        validator: true,
        admin: false,
        created_at: ts,
        updated_at: ts,
    };
    let pair = keygen::generate().await?;
    let key = KeyRow {
        actor_id: validator.id.clone(),
        name: "default".into(),
        public_key: pair.public_pem.clone(),
        expires_at: None,
        created_at: ts,
    };
    let env = ObjectRow {
        id: new_id(),
        org_id: org.id.clone(),
        kind: "environment".into(),
        bag: String::new(),
        name: "_default".into(),
        body: default_environment().to_string(),
        created_at: ts,
        updated_at: ts,
    };
    let new = NewOrg {
        org: &org,
        creator_id,
        creator_is_superuser,
        validator: &validator,
        validator_key: &key,
        default_environment: &env,
    };
    store
        .create_org(&new)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => org_exists(),
            other => other,
        })?;
    Ok((org, pair.private_pem))
}

/// Stores a new Compliance refresh token for a user and returns it with its secret, shown
/// only this once (`POST /api/user/refresh_tokens`, `brigade refresh-token-create`).
pub async fn issue_refresh_token(
    store: &Store,
    user_id: &str,
    description: &str,
) -> Result<(crate::store::compliance::TokenRow, String)> {
    use crate::auth::jwt;
    let token = jwt::random_secret();
    let row = crate::store::compliance::TokenRow {
        id: new_id(),
        user_id: user_id.into(),
        kind: "refresh".into(),
        description: description.into(),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    store
        .create_token(&row, Some(&jwt::token_hash(&token)))
        .await?;
    Ok((row, token))
}

//! The file store: `GET/PUT /organizations/ORG/file_store/checksums/MD5`, where sandbox
//! upload URLs and cookbook file URLs point. A request is let in by the URL's own
//! signature (what chef-client and knife follow) or by a signed header from the org, as
//! the real server's bookshelf and chef-zero each allow. An upload is taken only for a
//! checksum that an open sandbox of the org announced, from a URL the sandbox handed out
//! or an actor that may create sandboxes; its body is read only after those checks, then
//! checked against the checksum (and `Content-MD5`). Files are kept per org and a stored
//! file is never replaced, so no upload can change what another org, or an earlier
//! upload, stored under the same MD5.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::json;

use super::documents::require_container;
use super::reply;
use super::sandboxes::is_checksum;
use crate::auth::extract::{read_streamed, signed_request, BodyLimit, Org};
use crate::auth::{file_url, Requestor};
use crate::blobs::cookbook_key;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::orgs::OrgRow;

/// Lets a request through on its URL signature, else on a signed header.
pub async fn file_auth(
    State(s): State<AppState>,
    Path((org, sum)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    mut req: Request,
    next: Next,
) -> Result<Response> {
    if let (Some(expires), Some(sig)) = (q.get("expires"), q.get("signature")) {
        let method = req.method().as_str().to_string();
        if file_url::verify(&s, &method, &org, &sum, expires, sig).await? {
            return Ok(next.run(req).await);
        }
    }
    if req.headers().contains_key("x-ops-userid") {
        req.extensions_mut()
            .insert(BodyLimit(s.config.limits.max_file_bytes));
        return signed_request(State(s), req, next).await;
    }
    Err(Error::forbidden(
        "The file URL is invalid or has expired; ask for the cookbook again",
    ))
}

async fn org_named(s: &AppState, name: &str) -> Result<OrgRow> {
    s.store
        .org_by_name(name)
        .await?
        .ok_or_else(|| Error::not_found(format!("organization '{name}' does not exist.")))
}

fn no_file(sum: &str) -> Error {
    Error::not_found(format!("No file with checksum {sum}"))
}

pub async fn get_file(
    State(s): State<AppState>,
    Path((org, sum)): Path<(String, String)>,
) -> Result<Response> {
    let org = org_named(&s, &org).await?;
    if !is_checksum(&sum)
        || s.store
            .known_checksums(&org.id, std::slice::from_ref(&sum))
            .await?
            .is_empty()
    {
        return Err(no_file(&sum));
    }
    let data = s
        .blobs
        .get(&cookbook_key(&org.id, &sum))
        .await?
        .ok_or_else(|| no_file(&sum))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-binary")],
        data,
    )
        .into_response())
}

pub async fn put_file(
    State(s): State<AppState>,
    Path((org, sum)): Path<(String, String)>,
    req: Request,
) -> Result<Response> {
    let (parts, body) = req.into_parts();
    let org = org_named(&s, &org).await?;
    if !is_checksum(&sum) {
        return Err(Error::bad_request(format!("Invalid checksum '{sum}'")));
    }
    // A signed-header upload needs the right a sandbox needs; a URL upload was handed out
    // by a sandbox to such an actor.
    let requestor = parts.extensions.get::<Requestor>().cloned();
    if let Some(who) = &requestor {
        let org_ext = Org(std::sync::Arc::new(org.clone()));
        require_container(&s, who, &org_ext, "sandboxes", "create").await?;
    }
    if !s.store.checksum_awaited(&org.id, &sum).await? {
        return Err(Error::forbidden(format!(
            "No open sandbox of organization '{}' awaits checksum {sum}",
            org.name
        )));
    }
    let user = requestor.map(|r| r.name).unwrap_or_default();
    let body = read_streamed(body, s.config.limits.max_file_bytes, &user).await?;
    let digest = Md5::digest(&body);
    if !hex::encode(digest).eq_ignore_ascii_case(&sum) {
        return Err(Error::bad_request(format!(
            "The uploaded content does not match checksum {sum}"
        )));
    }
    if let Some(sent) = parts.headers.get("content-md5") {
        let decoded = sent.to_str().ok().and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        });
        if decoded.as_deref() != Some(&digest[..]) {
            return Err(Error::bad_request(
                "Content-MD5 does not match the uploaded content",
            ));
        }
    }
    // First write wins: an existing file with this MD5 stays as it is.
    s.blobs.put(&cookbook_key(&org.id, &sum), body).await?;
    s.store.add_checksum(&org.id, &sum).await?;
    Ok(reply(StatusCode::OK, json!({})))
}

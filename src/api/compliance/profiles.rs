//! InSpec profiles: `/api/user/compliance` (every profile the user may read, by owner),
//! `/api/owners/OWNER/compliance[/PROFILE[/tar|/zip]]`. Uploads come as multipart
//! `file=` (tar.gz or zip), or as a raw body to `…/PROFILE/tar` (what InSpec sends) or
//! `…/PROFILE/zip`; an upload of a stored version replaces it (InSpec's `--overwrite`).
//! Listings show each profile's newest version with `sha256`, the SHA-256 of the bytes
//! `/tar` returns (InSpec's cache key).

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::access::{find_owner, forbidden, org_access, owner_access, Owner};
use super::{CError, CResult, ComplianceUser};
use crate::error::{Error, Message};
use crate::profile_library::{self as library, StoredProfile};
use crate::state::AppState;

fn meta(p: &StoredProfile, owner: &str) -> Value {
    let title = match p.field("title") {
        "" => p.row.name.as_str(),
        t => t,
    };
    json!({
        "id": p.row.name, "owner": owner, "name": p.row.name, "title": title,
        "version": p.row.version, "summary": p.field("summary"),
        "description": p.field("description"), "license": p.field("license"),
        "copyright": p.field("copyright"), "copyright_email": p.field("copyright_email"),
        "sha256": p.row.sha256,
    })
}

/// Every owner whose profiles `who` may read: all users, and the orgs they belong to.
async fn readable_owners(s: &AppState, who: &ComplianceUser) -> CResult<Vec<(String, String)>> {
    let mut owners: Vec<(String, String)> = s
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    for o in s.store.list_orgs().await? {
        if org_access(s, who, &o).await?.member {
            owners.push((o.id, o.name));
        }
    }
    Ok(owners)
}

pub async fn list_all(State(s): State<AppState>, who: ComplianceUser) -> CResult<Response> {
    let owners = readable_owners(&s, &who).await?;
    let ids: Vec<String> = owners.iter().map(|(id, _)| id.clone()).collect();
    let mut out = Map::new();
    for p in library::newest(library::list(&s, &ids).await?) {
        let Some((_, login)) = owners.iter().find(|(id, _)| *id == p.row.owner_id) else {
            continue;
        };
        let entry = out
            .entry(login.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[p.row.name.as_str()] = meta(&p, login);
    }
    Ok(Json(Value::Object(out)).into_response())
}

async fn readable(s: &AppState, who: &ComplianceUser, owner: &str) -> CResult<Owner> {
    let owner = find_owner(s, owner).await?;
    if !owner_access(s, who, &owner).await?.0 {
        return Err(forbidden("read this owner's profiles"));
    }
    Ok(owner)
}

async fn writable(s: &AppState, who: &ComplianceUser, owner: &str) -> CResult<Owner> {
    let owner = find_owner(s, owner).await?;
    if !owner_access(s, who, &owner).await?.1 {
        return Err(forbidden("change this owner's profiles"));
    }
    Ok(owner)
}

pub async fn list_owner(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(owner): Path<String>,
) -> CResult<Response> {
    let owner = readable(&s, &who, &owner).await?;
    let mut out = Map::new();
    for p in library::newest(library::list(&s, &[owner.id().to_string()]).await?) {
        out.insert(p.row.name.clone(), meta(&p, owner.login()));
    }
    Ok(Json(Value::Object(out)).into_response())
}

async fn newest(s: &AppState, owner: &Owner, name: &str) -> CResult<StoredProfile> {
    library::versions(s, owner.id(), name)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            CError(Error::not_found(format!(
                "profile {}/{name} not found",
                owner.login()
            )))
        })
}

pub async fn show_profile(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((owner, name)): Path<(String, String)>,
) -> CResult<Response> {
    let owner = readable(&s, &who, &owner).await?;
    let p = newest(&s, &owner, &name).await?;
    let mut out = meta(&p, owner.login());
    out["rules"] = p.meta.get("rules").cloned().unwrap_or(json!({}));
    Ok(Json(out).into_response())
}

pub async fn download(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((owner, name)): Path<(String, String)>,
) -> CResult<Response> {
    let owner = readable(&s, &who, &owner).await?;
    let p = newest(&s, &owner, &name).await?;
    let bytes = library::archive(&s, &p).await?;
    let file = format!(
        "attachment; filename=\"{}-{}.tar.gz\"",
        p.row.name, p.row.version
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-gzip".to_string()),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    )
        .into_response())
}

pub async fn delete_profile(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((owner, name)): Path<(String, String)>,
) -> CResult<Response> {
    let owner = writable(&s, &who, &owner).await?;
    if library::delete(&s, owner.id(), &name, None).await? == 0 {
        return Err(CError(Error::not_found(format!(
            "profile {}/{name} not found",
            owner.login()
        ))));
    }
    Ok(StatusCode::OK.into_response())
}

async fn raw_body(s: &AppState, req: Request) -> CResult<Bytes> {
    let limit = s.config.limits.max_file_bytes;
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            CError(Error::PayloadTooLarge(Message::List(format!(
                "the archive is over {limit} bytes"
            ))))
        })
}

/// `POST …/PROFILE/tar` and `…/PROFILE/zip`: the archive is the body.
pub async fn upload_named(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((owner, name)): Path<(String, String)>,
    req: Request,
) -> CResult<Response> {
    let owner = writable(&s, &who, &owner).await?;
    let bytes = raw_body(&s, req).await?;
    library::ingest(&s, owner.id(), bytes, Some(&name)).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /api/owners/OWNER/compliance`: multipart `file=` (or a raw archive body).
pub async fn upload(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(owner): Path<String>,
    req: Request,
) -> CResult<Response> {
    let owner = writable(&s, &who, &owner).await?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes = if multipart {
        file_part(&s, req).await?
    } else {
        raw_body(&s, req).await?
    };
    library::ingest(&s, owner.id(), bytes, None).await?;
    Ok(StatusCode::OK.into_response())
}

async fn file_part(s: &AppState, req: Request) -> CResult<Bytes> {
    let bad = |m: &str| CError(Error::bad_request(m.to_string()));
    let mut form = Multipart::from_request(req, s)
        .await
        .map_err(|e| bad(&format!("invalid multipart body: {e}")))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| bad(&format!("invalid multipart body: {e}")))?
    {
        if field.name() == Some("file") {
            return field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    CError(Error::PayloadTooLarge(Message::List(
                        "the archive is too large".into(),
                    )))
                } else {
                    bad(&format!("invalid multipart body: {e}"))
                }
            });
        }
    }
    Err(bad("the multipart body has no 'file' part"))
}

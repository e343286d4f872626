//! The signed-request gate of the Infra and Reporting families, and the extractors that
//! hand its result to handlers. The gate follows erchef's order: header presence and
//! protocol (400), timestamp (401), body size (413), organization (404), signature (401),
//! then org membership (403).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;

use super::signed_header::{self, AuthError};
use crate::error::{Error, Message};
use crate::state::AppState;
use crate::store::orgs::OrgRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestorKind {
    User,
    Client,
}

/// The authenticated actor of a request.
#[derive(Debug, Clone)]
pub struct Requestor {
    pub kind: RequestorKind,
    pub id: String,
    pub name: String,
    pub superuser: bool,
    pub validator: bool,
    /// The key that signed this request (it may not be modified or deleted by it).
    pub key_name: String,
}

impl Requestor {
    fn user(u: crate::store::users::UserRow, key_name: &str) -> Requestor {
        Requestor {
            kind: RequestorKind::User,
            id: u.id,
            name: u.username,
            superuser: u.superuser,
            validator: false,
            key_name: key_name.into(),
        }
    }

    pub fn is_user(&self) -> bool {
        self.kind == RequestorKind::User
    }
}

/// The organization named by the request path, loaded by the gate.
#[derive(Debug, Clone)]
pub struct Org(pub Arc<OrgRow>);

/// The path the client signed (before any default-org rewrite).
#[derive(Debug, Clone)]
pub struct SignedPath(pub String);

/// A body limit above the JSON one, set by routes that take files (the file store).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A route's body validation that runs before the signature is checked, so that a
/// malformed body is a 400 whoever sends it (erchef validates in `malformed_request`,
/// before `is_authorized`).
#[derive(Clone, Copy)]
pub struct BodyCheck(pub fn(&[u8]) -> Result<(), Error>);

impl<S: Send + Sync> FromRequestParts<S> for Requestor {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts.extensions.get::<Requestor>().cloned().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "route is not behind the signed-request gate"
            ))
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Org {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts
            .extensions
            .get::<Org>()
            .cloned()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("route has no organization")))
    }
}

/// Name of the org in `/organizations/ORG[/...]`, and whether the path goes below it (a
/// missing org is then the gate's 404; `/organizations/ORG` itself reports it in its own
/// words).
fn org_in_path(path: &str) -> Option<(&str, bool)> {
    let rest = path.strip_prefix("/organizations/")?;
    let (org, tail) = rest.split_once('/').unwrap_or((rest, ""));
    (!org.is_empty()).then_some((org, !tail.is_empty()))
}

fn auth_error(e: AuthError, user: &str) -> Error {
    match e {
        AuthError::MissingHeaders(_) | AuthError::UnsupportedVersion => {
            Error::bad_request(e.to_string())
        }
        AuthError::BadTimestamp => Error::unauthorized(e.to_string()),
        AuthError::ClockSkew => Error::unauthorized(format!(
            "Failed to authenticate as {user}. Synchronize the clock on your host."
        )),
        AuthError::InvalidSignature => invalid_signature(user),
    }
}

fn unknown_actor(user: &str) -> Error {
    Error::unauthorized(format!(
        "Failed to authenticate as '{user}'. Ensure that your node_name and client key are correct."
    ))
}

fn invalid_signature(user: &str) -> Error {
    Error::unauthorized(format!("Invalid signature for user or client '{user}'"))
}

/// Verifies the request's signature and puts `Requestor` (and `Org`) into its extensions.
/// Routes that take files (`BodyLimit`) are checked before their body is read; every other
/// body is read first, within the JSON limit, as erchef does.
pub async fn signed_request(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, Error> {
    let (mut parts, body) = req.into_parts();
    let path = match parts.extensions.get::<SignedPath>() {
        Some(p) => p.0.clone(),
        None => parts.uri.path().to_string(),
    };
    let user = parts
        .headers
        .get("x-ops-userid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let now = chrono::Utc::now();
    let headers =
        signed_header::parse_auth_headers(&parts.headers, now, state.config.auth.clock_skew_secs)
            .map_err(|e| auth_error(e, &user))?;

    if let Some(BodyLimit(limit)) = parts.extensions.get::<BodyLimit>().copied() {
        if declared_length(&parts).is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let org = path_org(&state, &parts).await?;
        // The signature covers the claimed content hash, so it can be checked now; the
        // body is then hashed as it streams to the handler, which sees an error at its end
        // if the hash differs (nothing of an unauthenticated body is ever buffered).
        let requestor = verify_signature(
            &state,
            &parts,
            &headers,
            &path,
            &headers.content_hash,
            org.as_deref(),
        )
        .await?;
        admit(&state, &mut parts, &requestor, org).await?;
        let body = hashed_body(body, &headers, limit);
        parts.extensions.insert(requestor);
        return Ok(next.run(Request::from_parts(parts, body)).await);
    }

    let limit = state.config.limits.max_json_bytes;
    if declared_length(&parts).is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let bytes = read_body(body, limit).await?;
    let org = path_org(&state, &parts).await?;
    if let Some(check) = parts.extensions.get::<BodyCheck>() {
        (check.0)(&decode_content(&parts, bytes.clone(), limit)?)?;
    }
    let hash = signed_header::hash_body(headers.version, &bytes);
    let requestor =
        verify_signature(&state, &parts, &headers, &path, &hash, org.as_deref()).await?;
    admit(&state, &mut parts, &requestor, org).await?;
    let bytes = decode_content(&parts, bytes, limit)?;
    parts.extensions.insert(requestor);
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

fn declared_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The org of an `/organizations/ORG/...` path (404 when it is missing below the org).
async fn path_org(state: &AppState, parts: &Parts) -> Result<Option<Arc<OrgRow>>, Error> {
    let Some((name, nested)) = org_in_path(parts.uri.path()) else {
        return Ok(None);
    };
    match state.store.org_by_name(name).await? {
        Some(org) => Ok(Some(Arc::new(org))),
        None if nested => Err(Error::not_found(format!(
            "organization '{name}' does not exist."
        ))),
        None => Ok(None),
    }
}

/// Org membership (403) and the `Accept` check (406), after the signature.
async fn admit(
    state: &AppState,
    parts: &mut Parts,
    requestor: &Requestor,
    org: Option<Arc<OrgRow>>,
) -> Result<(), Error> {
    if let Some(org) = org {
        if requestor.is_user()
            && !requestor.superuser
            && !state.store.is_org_member(&org.id, &requestor.id).await?
        {
            return Err(Error::forbidden(format!(
                "'{}' not associated with organization '{}'",
                requestor.name, org.name
            )));
        }
        parts.extensions.insert(Org(org));
    }
    if !accepts_json(&parts.headers) {
        return Err(Error::NotAcceptable(crate::error::Message::List(
            "This resource only provides application/json".into(),
        )));
    }
    Ok(())
}

/// Why a streamed, signed body was cut off; a handler reading it maps these to 413/401.
#[derive(Debug, thiserror::Error)]
pub enum StreamedBodyError {
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    #[error("request body does not match X-Ops-Content-Hash")]
    HashMismatch,
}

/// The body as a stream that counts and hashes what passes and fails at its end when the
/// hash is not the signed one, or as soon as it grows past `limit`.
fn hashed_body(body: Body, headers: &signed_header::AuthHeaders, limit: usize) -> Body {
    use futures_util::StreamExt;
    struct St {
        inner: axum::body::BodyDataStream,
        hasher: Option<signed_header::BodyHasher>,
        claimed: String,
        seen: usize,
        limit: usize,
    }
    let st = St {
        inner: body.into_data_stream(),
        hasher: Some(signed_header::BodyHasher::new(headers.version)),
        claimed: headers.content_hash.clone(),
        seen: 0,
        limit,
    };
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        let hasher = st.hasher.as_mut()?;
        match st.inner.next().await {
            Some(Ok(chunk)) => {
                st.seen += chunk.len();
                if st.seen > st.limit {
                    st.hasher = None;
                    return Some((Err(StreamedBodyError::TooLarge(st.limit).into()), st));
                }
                hasher.update(&chunk);
                Some((Ok(chunk), st))
            }
            Some(Err(e)) => {
                st.hasher = None;
                Some((Err(axum::BoxError::from(e)), st))
            }
            None => {
                let digest = st.hasher.take()?.finish();
                if digest == st.claimed {
                    None
                } else {
                    Some((Err(StreamedBodyError::HashMismatch.into()), st))
                }
            }
        }
    });
    Body::from_stream(stream.map(|r: Result<Bytes, axum::BoxError>| r))
}

/// Reads a body that `hashed_body` (or nothing) wraps, within `limit`; an over-long body
/// is a 413 and one that is not what was signed a 401 for `user`.
pub async fn read_streamed(body: Body, limit: usize, user: &str) -> Result<Bytes, Error> {
    let err = match axum::body::to_bytes(body, limit).await {
        Ok(b) => return Ok(b),
        Err(e) => e.into_inner(),
    };
    // The cause may sit a few wrappers down (the body stream and the limit each box it).
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
    while let Some(e) = cause {
        if let Some(s) = e.downcast_ref::<StreamedBodyError>() {
            return Err(match s {
                StreamedBodyError::HashMismatch => invalid_signature(user),
                StreamedBodyError::TooLarge(_) => too_large(limit),
            });
        }
        if e.is::<http_body_util::LengthLimitError>() {
            return Err(too_large(limit));
        }
        cause = e.source();
    }
    Err(Error::bad_request("the request body could not be read"))
}

/// Whether the `Accept` header (when there is one) admits JSON, the only type served;
/// erchef answers 406 otherwise, after authentication.
fn accepts_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(accept) = headers.get(axum::http::header::ACCEPT) else {
        return true;
    };
    accept.to_str().unwrap_or("").split(',').any(|range| {
        let media = range.split(';').next().unwrap_or("").trim();
        media.is_empty()
            || media.eq_ignore_ascii_case("application/json")
            || media == "application/*"
            || media == "*/*"
    })
}

/// Finds who signed: one of the named actor's unexpired keys, or for a web UI request
/// (`web`) the configured web UI key on behalf of the named user.
/// `hash` is the body's hash (or the claimed one, for a body not read yet).
async fn verify_signature(
    state: &AppState,
    parts: &Parts,
    headers: &signed_header::AuthHeaders,
    path: &str,
    hash: &str,
    org: Option<&OrgRow>,
) -> Result<Requestor, Error> {
    let user = &headers.user_id;
    let method = parts.method.as_str();
    let web = parts
        .headers
        .get("x-ops-request-source")
        .is_some_and(|v| v.as_bytes() == b"web");
    if web {
        return web_requestor(state, headers, method, path, hash).await;
    }
    let candidates = state
        .store
        .auth_candidates(org.map(|o| o.id.as_str()), user)
        .await?;
    if candidates.is_empty() {
        return Err(unknown_actor(user));
    }
    let now = chrono::Utc::now();
    for c in candidates
        .iter()
        .filter(|c| c.expires_at.is_none_or(|e| e > now))
    {
        let Some(key) = state.keys.get(&c.public_key) else {
            continue;
        };
        if signed_header::verify_hash(headers, method, path, hash, &key) {
            return load_requestor(state, c).await;
        }
    }
    Err(invalid_signature(user))
}

/// A web UI request: signed with the web UI key, acting as the user it names.
async fn web_requestor(
    state: &AppState,
    headers: &signed_header::AuthHeaders,
    method: &str,
    path: &str,
    hash: &str,
) -> Result<Requestor, Error> {
    let name = &headers.user_id;
    let signed = state
        .webui_key
        .as_ref()
        .is_some_and(|key| signed_header::verify_hash(headers, method, path, hash, key));
    if !signed {
        return Err(invalid_signature(name));
    }
    let u = state
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| unknown_actor(name))?;
    Ok(Requestor::user(u, "webui"))
}

async fn load_requestor(
    state: &AppState,
    c: &crate::store::keys::AuthCandidate,
) -> Result<Requestor, Error> {
    if c.kind == "user" {
        let u = state
            .store
            .user_by_id(&c.actor_id)
            .await?
            .ok_or_else(|| invalid_signature(""))?;
        Ok(Requestor::user(u, &c.key_name))
    } else {
        let cl = state
            .store
            .client_by_id(&c.actor_id)
            .await?
            .ok_or_else(|| invalid_signature(""))?;
        Ok(Requestor {
            kind: RequestorKind::Client,
            id: cl.id,
            name: cl.name,
            superuser: false,
            validator: cl.validator,
            key_name: c.key_name.clone(),
        })
    }
}

fn too_large(limit: usize) -> Error {
    Error::PayloadTooLarge(Message::Bare(format!(
        "JSON must be no more than {limit} bytes."
    )))
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, Error> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))
}

/// Inflates a gzip request body after its signature (over the compressed bytes) is checked.
fn decode_content(parts: &Parts, bytes: Bytes, limit: usize) -> Result<Bytes, Error> {
    let gzip = parts
        .headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(bytes);
    }
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Error::bad_request("invalid gzip request body"))?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::org_in_path;

    #[test]
    fn org_is_taken_from_org_paths() {
        assert_eq!(
            org_in_path("/organizations/acme/nodes"),
            Some(("acme", true))
        );
        assert_eq!(
            org_in_path("/organizations/acme/nodes/n1"),
            Some(("acme", true))
        );
        assert_eq!(org_in_path("/organizations/acme"), Some(("acme", false)));
        assert_eq!(org_in_path("/organizations/acme/"), Some(("acme", false)));
        assert_eq!(org_in_path("/organizations"), None);
        assert_eq!(org_in_path("/users/bob"), None);
    }
}

//! Data bags (`/data`, `/data/BAG`) and their items (`/data/BAG/ITEM`). Items are
//! authorized by their bag's ACL; each item write records a change for the bag's index.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::{body_of, require_container};
use super::{created, reply, reply_text};
use crate::api::{off_async, opt_str, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::{data_bag, names};
use crate::state::AppState;
use crate::store::objects::{ObjectRow, SearchChange};
use crate::store::{new_id, now};

const BAG: &str = "data_bag";
const ITEM: &str = "data_bag_item";

fn change(bag: &str, item: &str, deleted: bool) -> SearchChange {
    SearchChange {
        index: bag.into(),
        item: item.into(),
        deleted,
    }
}

async fn load_bag(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    bag: &str,
    perm: &str,
) -> Result<ObjectRow> {
    let row = s
        .store
        .object(&org.0.id, BAG, "", bag)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load data bag {bag}")))?;
    authz::require(&s.store, who, &row.id, perm).await?;
    Ok(row)
}

fn bag_url(base: &BaseUrl, org: &Org, bag: &str) -> String {
    base.join(&format!("/organizations/{}/data/{bag}", org.0.name))
}

pub async fn list_bags(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "data", "read").await?;
    let out: Map<String, Value> = s
        .store
        .object_names(&org.0.id, BAG, "")
        .await?
        .into_iter()
        .map(|n| {
            let url = bag_url(&base, &org, &n);
            (n, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn create_bag(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    require_container(&s, &who, &org, "data", "create").await?;
    let name = opt_str(&body, "name")?.ok_or_else(|| Error::bad_request("Field 'name' missing"))?;
    if !names::is_key_name(name) {
        return Err(Error::bad_request("Field 'name' invalid"));
    }
    let exists = || Error::conflict("Data bag already exists");
    if s.store.object(&org.0.id, BAG, "", name).await?.is_some() {
        return Err(exists());
    }
    let ts = now();
    let row = ObjectRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        kind: BAG.into(),
        bag: String::new(),
        name: name.into(),
        body: data_bag::bag_json(name).to_string(),
        created_at: ts,
        updated_at: ts,
    };
    s.store
        .create_object(&row, "data", &who.id, None)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => exists(),
            other => other,
        })?;
    let uri = bag_url(&base, &org, name);
    Ok(created(&uri, json!({ "uri": uri })))
}

pub async fn show_bag(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, bag)): Path<(String, String)>,
) -> Result<Response> {
    load_bag(&s, &who, &org, &bag, "read").await?;
    let prefix = bag_url(&base, &org, &bag);
    let out: Map<String, Value> = s
        .store
        .object_names(&org.0.id, ITEM, &bag)
        .await?
        .into_iter()
        .map(|n| {
            let url = format!("{prefix}/{n}");
            (n, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn delete_bag(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, bag)): Path<(String, String)>,
) -> Result<Response> {
    let row = load_bag(&s, &who, &org, &bag, "delete").await?;
    let items = s.store.objects(&org.0.id, ITEM, &bag).await?;
    let mut ids = vec![row.id.clone()];
    let mut changes = Vec::new();
    for i in items {
        changes.push(change(&bag, &i.name, true));
        ids.push(i.id);
    }
    s.store.delete_objects(&org.0.id, &ids, &changes).await?;
    Ok(reply(StatusCode::OK, data_bag::bag_json(&bag)))
}

pub async fn create_item(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, bag)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let bag_row = s.store.object(&org.0.id, BAG, "", &bag).await?.ok_or_else(|| {
        Error::not_found(format!("No data bag '{bag}' could be found. Please create this data bag before adding items to it."))
    })?;
    authz::require(&s.store, &who, &bag_row.id, "create").await?;
    let (id, stored, answer) = validated_item(body, None, &bag).await?;
    let exists = || {
        Error::conflict(format!(
            "Data Bag Item '{id}' already exists in Data Bag '{bag}'."
        ))
    };
    if s.store.object(&org.0.id, ITEM, &bag, &id).await?.is_some() {
        return Err(exists());
    }
    let ts = now();
    let row = ObjectRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        kind: ITEM.into(),
        bag: bag.clone(),
        name: id.clone(),
        body: stored,
        created_at: ts,
        updated_at: ts,
    };
    s.store
        .create_item(&row, &change(&bag, &id, false))
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => exists(),
            other => other,
        })?;
    Ok(reply_text(StatusCode::CREATED, answer))
}

/// The item's id, stored text and answer, worked out on a blocking thread: an item may be
/// megabytes.
async fn validated_item(
    body: Map<String, Value>,
    url_id: Option<String>,
    bag: &str,
) -> Result<(String, String, String)> {
    let bag = bag.to_string();
    off_async(move || {
        let item = data_bag::validate_item(body, url_id.as_deref())?;
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let stored = serde_json::to_string(&item).map_err(|e| Error::Internal(e.into()))?;
        let answer = data_bag::item_reply(&item, &bag).to_string();
        Ok((id, stored, answer))
    })
    .await
}

async fn load_item(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    bag: &str,
    id: &str,
    perm: &str,
    deleting: bool,
) -> Result<ObjectRow> {
    let missing = || {
        Error::not_found(if deleting {
            format!("Cannot load data bag {bag} item {id}")
        } else {
            format!("Cannot load data bag item {id} for data bag {bag}")
        })
    };
    let bag_row = s
        .store
        .object(&org.0.id, BAG, "", bag)
        .await?
        .ok_or_else(missing)?;
    let row = s
        .store
        .object(&org.0.id, ITEM, bag, id)
        .await?
        .ok_or_else(missing)?;
    authz::require(&s.store, who, &bag_row.id, perm).await?;
    Ok(row)
}

pub async fn show_item(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, bag, id)): Path<(String, String, String)>,
) -> Result<Response> {
    let row = load_item(&s, &who, &org, &bag, &id, "read", false).await?;
    Ok(reply_text(StatusCode::OK, row.body))
}

pub async fn update_item(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, bag, id)): Path<(String, String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let row = load_item(&s, &who, &org, &bag, &id, "update", false).await?;
    let (_, stored, answer) = validated_item(body, Some(id.clone()), &bag).await?;
    let updated = ObjectRow {
        body: stored,
        updated_at: now(),
        ..row
    };
    s.store
        .update_object(&updated, &[change(&bag, &id, false)])
        .await?;
    Ok(reply_text(StatusCode::OK, answer))
}

pub async fn delete_item(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, bag, id)): Path<(String, String, String)>,
) -> Result<Response> {
    let row = load_item(&s, &who, &org, &bag, &id, "delete", true).await?;
    s.store
        .delete_objects(
            &org.0.id,
            std::slice::from_ref(&row.id),
            &[change(&bag, &id, true)],
        )
        .await?;
    Ok(reply(
        StatusCode::OK,
        data_bag::wrapped_item(&body_of(&row)?, &bag, &id),
    ))
}

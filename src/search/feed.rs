//! Turns change-log rows into index operations: each named object is read back from the
//! database as it is now (so replaying the log is idempotent) and flattened.

use std::collections::HashMap;

use serde_json::Value;

use super::engine::{IndexOp, IndexedDoc};
use super::flatten;
use crate::model::client;
use crate::store::objects::ObjectRow;
use crate::store::search::ChangeRow;
use crate::store::Store;

/// The built-in indexes; any other index name is a data bag.
pub const BUILT_IN: [&str; 4] = ["client", "environment", "node", "role"];

/// The engine's index name for a change-log index name.
pub fn engine_index(idx: &str) -> String {
    if BUILT_IN.contains(&idx) {
        idx.to_string()
    } else {
        format!("data_bag:{idx}")
    }
}

/// The indexed document of a stored object, or `None` for kinds that are not searched.
pub fn object_doc(row: &ObjectRow) -> Option<IndexedDoc> {
    let body: Value = serde_json::from_str(&row.body).ok()?;
    let (index, type_name, view) = match row.kind.as_str() {
        "node" => ("node".to_string(), "node", flatten::node_view(&body)),
        "role" => ("role".to_string(), "role", flatten::role_view(&body)),
        "environment" => ("environment".to_string(), "environment", body),
        "data_bag_item" => (
            engine_index(&row.bag),
            "data_bag_item",
            flatten::item_view(&body, &row.bag),
        ),
        _ => return None,
    };
    let doc = flatten::with_meta(view, &row.id, &row.org_id, type_name);
    Some(IndexedDoc {
        org_id: row.org_id.clone(),
        index,
        name: row.name.clone(),
        content: flatten::content(&doc),
    })
}

pub fn client_doc(c: &crate::store::clients::ClientRow, org_name: &str) -> IndexedDoc {
    let view = client::render(c, org_name, None);
    let doc = flatten::with_meta(view, &c.id, &c.org_id, "client");
    IndexedDoc {
        org_id: c.org_id.clone(),
        index: "client".into(),
        name: c.name.clone(),
        content: flatten::content(&doc),
    }
}

/// An index operation, or the stored object whose flattening gives it.
enum Slot {
    Ready(IndexOp),
    Object(String, ObjectRow),
}

/// Index operations for a batch of changes, in order. An object named several times is
/// read once, at its last mention. Objects are flattened on a blocking thread: a batch
/// may hold megabytes of documents.
pub async fn resolve(store: &Store, changes: &[ChangeRow]) -> anyhow::Result<Vec<IndexOp>> {
    let slots = read(store, changes).await?;
    let ops = tokio::task::spawn_blocking(move || {
        slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Ready(op) => op,
                Slot::Object(key, row) => match object_doc(&row) {
                    Some(d) => IndexOp::Upsert(d),
                    None => IndexOp::Delete { key },
                },
            })
            .collect()
    })
    .await?;
    Ok(ops)
}

async fn read(store: &Store, changes: &[ChangeRow]) -> Result<Vec<Slot>, sqlx::Error> {
    let key = |c: &ChangeRow| IndexedDoc::key(&c.org_id, &engine_index(&c.idx), &c.item);
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if c.op != "purge" {
            last.insert(key(c), i);
        }
    }
    let mut org_names: HashMap<String, Option<String>> = HashMap::new();
    let mut ops = Vec::with_capacity(changes.len());
    for (i, c) in changes.iter().enumerate() {
        if c.op == "purge" {
            ops.push(Slot::Ready(IndexOp::PurgeOrg {
                org_id: c.org_id.clone(),
            }));
            continue;
        }
        let k = key(c);
        if last.get(&k) != Some(&i) {
            continue;
        }
        let op = |doc: Option<IndexedDoc>| match doc {
            Some(d) => Slot::Ready(IndexOp::Upsert(d)),
            None => Slot::Ready(IndexOp::Delete { key: k.clone() }),
        };
        if c.op == "delete" {
            ops.push(op(None));
        } else if c.idx == "client" {
            let org_name = match org_names.get(&c.org_id) {
                Some(n) => n.clone(),
                None => {
                    let n = store.org_name_by_id(&c.org_id).await?;
                    org_names.insert(c.org_id.clone(), n.clone());
                    n
                }
            };
            let client = store.client_by_name(&c.org_id, &c.item).await?;
            ops.push(op(match (client, org_name) {
                (Some(cl), Some(org)) => Some(client_doc(&cl, &org)),
                _ => None,
            }));
        } else {
            let (kind, bag) = if BUILT_IN.contains(&c.idx.as_str()) {
                (c.idx.as_str(), "")
            } else {
                ("data_bag_item", c.idx.as_str())
            };
            ops.push(match store.object(&c.org_id, kind, bag, &c.item).await? {
                Some(row) => Slot::Object(k.clone(), row),
                None => op(None),
            });
        }
    }
    Ok(ops)
}

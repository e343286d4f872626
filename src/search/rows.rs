//! Result rows: the objects a search matched, loaded from the database by name in the
//! engine's order, filtered by the requestor's read permission, and shaped as erchef
//! answers them (facts §A.8.6), whole or as partial-search extracts.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::feed::engine_index;
use super::prune;
use crate::auth::Requestor;
use crate::model::{client, data_bag};
use crate::store::Store;

/// Which index a search names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexName {
    Node,
    Role,
    Environment,
    Client,
    Bag(String),
}

impl IndexName {
    pub fn parse(name: &str) -> IndexName {
        match name {
            "node" => IndexName::Node,
            "role" => IndexName::Role,
            "environment" => IndexName::Environment,
            "client" => IndexName::Client,
            bag => IndexName::Bag(bag.to_string()),
        }
    }

    /// The engine's name for this index.
    pub fn engine(&self) -> String {
        match self {
            IndexName::Bag(b) => engine_index(b),
            other => other.kind().to_string(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            IndexName::Node => "node",
            IndexName::Role => "role",
            IndexName::Environment => "environment",
            IndexName::Client => "client",
            IndexName::Bag(_) => "data_bag_item",
        }
    }

    fn path(&self, org: &str, name: &str) -> String {
        match self {
            IndexName::Bag(b) => format!("/organizations/{org}/data/{b}/{name}"),
            other => format!("/organizations/{org}/{}s/{name}", other.kind()),
        }
    }
}

/// One matched object: the id its read permission is checked on, and its document.
pub struct Row {
    pub name: String,
    pub acl_id: String,
    doc: Doc,
}

enum Doc {
    /// A node, role or environment: answered as stored (JSON text, never re-encoded).
    Stored(String),
    /// A data bag item's stored body (answered wrapped).
    Item(String),
    /// A client, as rendered.
    Client(Value),
}

/// Loads the named objects in `names` order (objects deleted since indexing are skipped).
/// `bag_id` is the data bag's id (items are authorized by their bag). Without
/// `with_body`, documents are not read (see `needs_body`).
#[allow(clippy::too_many_arguments)]
pub async fn load(
    store: &Store,
    org_id: &str,
    org_name: &str,
    index: &IndexName,
    bag_id: Option<&str>,
    names: &[String],
    api_version: u8,
    with_body: bool,
) -> crate::error::Result<Vec<Row>> {
    let mut by_name: HashMap<String, Row> = HashMap::with_capacity(names.len());
    match index {
        IndexName::Client => {
            for c in store.clients_named(org_id, names).await? {
                let pk = if api_version == 0 {
                    store
                        .actor_key(&c.id, "default")
                        .await?
                        .map(|k| k.public_key)
                } else {
                    None
                };
                let doc = Doc::Client(client::render(&c, org_name, pk.as_deref()));
                let row = Row {
                    name: c.name.clone(),
                    acl_id: c.id.clone(),
                    doc,
                };
                by_name.insert(c.name, row);
            }
        }
        _ => {
            let bag = match index {
                IndexName::Bag(b) => b.as_str(),
                _ => "",
            };
            for o in store
                .search_objects_named(org_id, index.kind(), bag, names, with_body)
                .await?
            {
                let acl_id = bag_id.map_or_else(|| o.id.clone(), str::to_string);
                let doc = match index {
                    IndexName::Bag(_) => Doc::Item(o.body),
                    _ => Doc::Stored(o.body),
                };
                let row = Row {
                    name: o.name.clone(),
                    acl_id,
                    doc,
                };
                by_name.insert(o.name, row);
            }
        }
    }
    Ok(names.iter().filter_map(|n| by_name.remove(n)).collect())
}

/// Keeps the rows the requestor may read.
pub async fn readable(
    store: &Store,
    who: &Requestor,
    rows: Vec<Row>,
) -> crate::error::Result<Vec<Row>> {
    if who.superuser || rows.is_empty() {
        return Ok(rows);
    }
    let mut ids: Vec<String> = rows.iter().map(|r| r.acl_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let ok = store.permitted_targets(&who.id, &ids, "read").await?;
    Ok(rows
        .into_iter()
        .filter(|r| ok.contains(&r.acl_id))
        .collect())
}

/// A partial-search body: `{"alias": ["path", "to", "attr"], …}`.
pub type Paths = Vec<(String, Vec<String>)>;

/// Parses a partial-search body; `None` when it is not an object of string arrays.
pub fn parse_paths(body: &[u8]) -> Option<Paths> {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    m.into_iter()
        .map(|(alias, v)| {
            let Value::Array(items) = v else { return None };
            let path = items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()?;
            Some((alias, path))
        })
        .collect()
}

/// The value at `path` in `doc`, as erchef's `extract_path`: `null` when missing or for an
/// empty path, an error string when the path goes through something that is not an object.
pub fn extract(doc: &Value, path: &[String]) -> Value {
    if path.is_empty() {
        return Value::Null;
    }
    let mut cur = doc;
    for key in path {
        match cur {
            Value::Object(m) => match m.get(key) {
                Some(v) => cur = v,
                None => return Value::Null,
            },
            _ => return Value::String("ERROR - Attribute does not exist".into()),
        }
    }
    cur.clone()
}

/// The answer's JSON text: `{"total", "start", "rows"}` with full objects (spliced in as
/// stored), or `{"url", "data"}` extracts for a partial search.
pub fn render(
    rows: Vec<Row>,
    paths: Option<&Paths>,
    base: &str,
    org: &str,
    index: &IndexName,
    total: usize,
    start: usize,
) -> String {
    let capacity = rows
        .iter()
        .map(|r| match (&r.doc, paths) {
            (Doc::Stored(t), None) | (Doc::Item(t), None) => t.len() + 200,
            _ => 200,
        })
        .sum::<usize>();
    let mut out = String::with_capacity(capacity + 64);
    out.push_str(&format!(r#"{{"total":{total},"start":{start},"rows":["#));
    let wanted = prune::Paths::new(paths.into_iter().flatten().map(|(_, p)| p.as_slice()));
    let body_needed = needs_body(index, paths);
    let mut first = true;
    for r in rows {
        let text = match paths {
            None => match r.doc {
                Doc::Stored(t) => t,
                Doc::Item(t) => match serde_json::from_str::<Value>(&t) {
                    Ok(body) => data_bag::wrapped_item(&body, bag_of(index), &r.name).to_string(),
                    Err(_) => continue,
                },
                Doc::Client(v) => v.to_string(),
            },
            Some(paths) => {
                let view = match (&r.doc, index) {
                    _ if !body_needed => Some(json!({ "name": r.name })),
                    (Doc::Stored(t), IndexName::Node) => prune::node_view(t, &wanted),
                    (Doc::Stored(t), _) | (Doc::Item(t), _) => serde_json::from_str(t).ok(),
                    (Doc::Client(v), _) => Some(v.clone()),
                };
                let Some(view) = view else { continue };
                let data: Map<String, Value> = paths
                    .iter()
                    .map(|(alias, path)| (alias.clone(), extract(&view, path)))
                    .collect();
                let url = format!("{base}{}", index.path(org, &r.name));
                json!({ "url": url, "data": data }).to_string()
            }
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&text);
    }
    out.push_str("]}");
    out
}

/// Whether rendering reads the stored documents: not for a partial search of nodes, roles
/// or environments that asks for names only (`knife search -i`), since a document's name
/// is its row's.
pub fn needs_body(index: &IndexName, paths: Option<&Paths>) -> bool {
    let names_only = |p: &Paths| {
        p.iter()
            .all(|(_, path)| path.len() == 1 && path[0] == "name")
    };
    match (index, paths) {
        (IndexName::Node | IndexName::Role | IndexName::Environment, Some(p)) => !names_only(p),
        _ => true,
    }
}

fn bag_of(index: &IndexName) -> &str {
    match index {
        IndexName::Bag(b) => b,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_paths_and_extraction() {
        assert!(parse_paths(b"z[$blah").is_none());
        for bad in [
            r#"{"a": "blah"}"#,
            r#"{"a": 1}"#,
            r#"{"a": true}"#,
            r#"{"a": {"oop": true}}"#,
            r#"{"a": [1, 2]}"#,
            r#"{"a": ["a", 2]}"#,
            r#"["a"]"#,
        ] {
            assert!(parse_paths(bad.as_bytes()).is_none(), "{bad}");
        }
        let p = parse_paths(br#"{"x": ["a", "b"], "e": []}"#).unwrap();
        assert_eq!(
            p,
            vec![
                ("x".into(), vec!["a".into(), "b".into()]),
                ("e".into(), vec![])
            ]
        );
        let doc = json!({"a": {"b": false, "s": "str"}});
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(extract(&doc, &path(&["a", "b"])), json!(false));
        assert_eq!(extract(&doc, &path(&["a", "zz", "q"])), Value::Null);
        assert_eq!(extract(&doc, &path(&[])), Value::Null);
        assert_eq!(
            extract(&doc, &path(&["a", "s", "q"])),
            json!("ERROR - Attribute does not exist")
        );
    }
}

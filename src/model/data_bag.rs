//! Data bags and items (erchef `chef_data_bag`, `chef_data_bag_item`): item ids, the
//! wrapped form some clients send, and the shapes items are returned in.

use serde_json::{json, Map, Value};

use super::names;
use crate::error::{Error, Result};

pub fn bag_json(name: &str) -> Value {
    json!({ "name": name, "json_class": "Chef::DataBag", "chef_type": "data_bag" })
}

/// Validates an item body, unwrapping `{"json_class": "Chef::DataBagItem", "raw_data": {…}}`.
/// On PUT, `url_id` is injected when the body has no `id` and must match otherwise.
pub fn validate_item(
    mut body: Map<String, Value>,
    url_id: Option<&str>,
) -> Result<Map<String, Value>> {
    if body.get("json_class").and_then(Value::as_str) == Some("Chef::DataBagItem") {
        if let Some(Value::Object(raw)) = body.get("raw_data") {
            body = raw.clone();
        }
    }
    match (body.get("id"), url_id) {
        (None, Some(u)) => {
            body.insert("id".into(), Value::String(u.into()));
        }
        (Some(Value::String(i)), Some(u)) if i != u => {
            return Err(Error::bad_request("DataBagItem name mismatch."));
        }
        (None, None) => return Err(Error::bad_request("Field 'id' missing")),
        _ => {}
    }
    match body.get("id") {
        Some(Value::String(id)) if names::is_key_name(id) => Ok(body),
        _ => Err(Error::bad_request("Field 'id' invalid")),
    }
}

/// What POST/PUT answer: the item plus `chef_type` and `data_bag`.
pub fn item_reply(item: &Map<String, Value>, bag: &str) -> Value {
    let mut out = item.clone();
    out.insert("chef_type".into(), json!("data_bag_item"));
    out.insert("data_bag".into(), json!(bag));
    Value::Object(out)
}

/// What DELETE answers (and search rows show): the wrapped item.
pub fn wrapped_item(item: &Value, bag: &str, id: &str) -> Value {
    json!({
        "name": format!("data_bag_item_{bag}_{id}"),
        "json_class": "Chef::DataBagItem",
        "chef_type": "data_bag_item",
        "data_bag": bag,
        "raw_data": item,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn items() {
        let wrapped = json!({"json_class": "Chef::DataBagItem", "raw_data": {"id": "a", "x": 1}, "data_bag": "b"});
        assert_eq!(
            Value::Object(validate_item(obj(wrapped), None).unwrap()),
            json!({"id": "a", "x": 1})
        );
        assert!(validate_item(obj(json!({"x": 1})), None).is_err());
        assert!(validate_item(obj(json!({"id": "a b"})), None).is_err());
        assert!(validate_item(obj(json!({"id": "a"})), Some("b")).is_err());
        assert_eq!(
            validate_item(obj(json!({"x": 1})), Some("b")).unwrap()["id"],
            "b"
        );
        assert_eq!(
            item_reply(&obj(json!({"id": "a"})), "b"),
            json!({"id": "a", "chef_type": "data_bag_item", "data_bag": "b"})
        );
    }
}

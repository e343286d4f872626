//! API clients (erchef `chef_client`): name rules, create/update bodies, JSON shape.

use serde_json::{json, Map, Value};

use super::names;
use crate::api::{opt_bool, opt_str};
use crate::error::{Error, Result};
use crate::store::clients::ClientRow;

/// The validated name and flags of a client body.
#[derive(Debug, Clone)]
pub struct ClientInput {
    pub name: String,
    pub validator: Option<bool>,
    pub admin: Option<bool>,
}

/// `name` and/or `clientname` (they must agree); on update the URL name fills in.
pub fn parse(body: &Map<String, Value>, url_name: Option<&str>) -> Result<ClientInput> {
    let name = match (opt_str(body, "name")?, opt_str(body, "clientname")?) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::bad_request("name and clientname must match"))
        }
        (Some(a), _) | (None, Some(a)) => a.to_string(),
        (None, None) => match url_name {
            Some(u) => u.to_string(),
            None => return Err(Error::bad_request("Field 'name' missing")),
        },
    };
    if !names::is_cookbook_name(&name) {
        return Err(Error::bad_request(format!(
            "Invalid client name '{name}' using regex: 'Malformed client name.  Must be A-Z, a-z, 0-9, _, -, or .'."
        )));
    }
    Ok(ClientInput {
        name,
        validator: opt_bool(body, "validator")?,
        // erchef never validates `admin`: anything but `true` reads as false.
        admin: body.get("admin").map(|v| v == &Value::Bool(true)),
    })
}

/// `GET /clients/NAME`; v0 adds the default public key.
pub fn render(c: &ClientRow, org: &str, public_key: Option<&str>) -> Value {
    let mut v = json!({
        "name": c.name,
        "clientname": c.name,
        "validator": c.validator,
        "orgname": org,
        "json_class": "Chef::ApiClient",
        "chef_type": "client",
    });
    if let Some(pk) = public_key {
        v["public_key"] = Value::String(pk.to_string());
    }
    v
}

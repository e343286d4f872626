//! Clients: v0/v1 creation, the validator registration flow, keys, rename, permissions.

mod common;

use common::{Actor, TestServer};
use serde_json::json;

#[tokio::test]
async fn validator_registers_a_client_that_then_owns_its_node() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    // chef-client registers with API v0 pinned.
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1", "admin": false}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["uri"], s.url("/organizations/acme/clients/web1"));
    let web1 = Actor::new("web1", r.body["private_key"].as_str().unwrap());
    let r = s
        .post(&web1, "/organizations/acme/nodes", &json!({"name": "web1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.put(
            &web1,
            "/organizations/acme/nodes/web1",
            &json!({"normal": {"a": 1}})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        s.get(&web1, "/organizations/acme/clients/web1")
            .await
            .status,
        200
    );
    // A validator may not make validators, and is refused again on a conflict.
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "v2", "validator": true}),
            "0",
        )
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1"}),
            "0",
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (409, json!({"error": ["Client already exists"]}))
    );
}

#[tokio::test]
async fn v0_and_v1_shapes() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = s.superuser.clone();
    let r = s
        .post_v(
            &p,
            "/organizations/acme/clients",
            &json!({"name": "c0"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body["public_key"]
        .as_str()
        .unwrap()
        .contains("PUBLIC KEY"));
    let r = s.get_v(&p, "/organizations/acme/clients/c0", "0").await;
    assert_eq!(r.body["clientname"], "c0");
    assert_eq!(r.body["orgname"], "acme");
    assert_eq!(r.body["json_class"], "Chef::ApiClient");
    assert_eq!(r.body["validator"], false);
    assert!(r.body["public_key"].is_string());
    let r = s.get_v(&p, "/organizations/acme/clients/c0", "1").await;
    assert!(r.body.get("public_key").is_none());

    let r = s
        .post(
            &p,
            "/organizations/acme/clients",
            &json!({"name": "c1", "create_key": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["chef_key"]["name"], "default");
    let c1 = Actor::new("c1", r.body["chef_key"]["private_key"].as_str().unwrap());
    assert_eq!(
        s.get(&c1, "/organizations/acme/clients/c1").await.status,
        200
    );
    let r = s
        .post(&p, "/organizations/acme/clients", &json!({"name": "c2"}))
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("chef_key").is_none());

    for (bad, status) in [
        (json!({}), 400),
        (json!({"name": "a", "clientname": "b"}), 400),
        (json!({"name": "bad:name"}), 400),
        (json!({"name": "x", "private_key": true}), 400),
    ] {
        assert_eq!(
            s.post(&p, "/organizations/acme/clients", &bad).await.status,
            status,
            "{bad}"
        );
    }
    let r = s.get(&p, "/organizations/acme/clients").await;
    let names: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(names, ["acme-validator", "c0", "c1", "c2"]);
}

#[tokio::test]
async fn update_rename_regenerate_and_delete() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = s.superuser.clone();
    assert_eq!(
        s.post_v(
            &p,
            "/organizations/acme/clients",
            &json!({"name": "c"}),
            "0"
        )
        .await
        .status,
        201
    );
    let r = s
        .put_v(
            &p,
            "/organizations/acme/clients/c",
            &json!({"name": "c", "private_key": true}),
            "0",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = Actor::new("c", r.body["private_key"].as_str().unwrap());
    assert_eq!(s.get(&c, "/organizations/acme/clients/c").await.status, 200);
    let r = s
        .put(
            &p,
            "/organizations/acme/clients/c",
            &json!({"name": "c", "public_key": "x"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .put(&p, "/organizations/acme/clients/c", &json!({"name": "d"}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("location").unwrap(),
        s.url("/organizations/acme/clients/d")
    );
    assert_eq!(
        s.get(&p, "/organizations/acme/clients/c").await.body,
        json!({"error": ["Cannot load client c"]})
    );
    let r = s.delete(&p, "/organizations/acme/clients/d").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "d");
    let d = Actor {
        name: "d".into(),
        ..c
    };
    assert_eq!(s.get(&d, "/organizations/acme/clients/d").await.status, 401);
}

#[tokio::test]
async fn client_keys() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = s.superuser.clone();
    let r = s
        .post_v(
            &p,
            "/organizations/acme/clients",
            &json!({"name": "c"}),
            "0",
        )
        .await;
    let c = Actor::new("c", r.body["private_key"].as_str().unwrap());
    let r = s
        .post(
            &p,
            "/organizations/acme/clients/c/keys",
            &json!({"name": "k2", "create_key": true, "expiration_date": "infinity"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["uri"],
        s.url("/organizations/acme/clients/c/keys/k2")
    );
    let k2 = Actor::new("c", r.body["private_key"].as_str().unwrap());
    assert_eq!(
        s.get(&k2, "/organizations/acme/clients/c").await.status,
        200
    );
    // Clients are in public_key_read_access, so they may list keys.
    let r = s.get(&c, "/organizations/acme/clients/c/keys").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    let r = s.delete(&k2, "/organizations/acme/clients/c/keys/k2").await;
    assert_eq!(r.status, 403, "the signing key cannot delete itself");
    assert_eq!(
        s.delete(&c, "/organizations/acme/clients/c/keys/k2")
            .await
            .status,
        200
    );
    let outsider = s.create_user("eve").await;
    assert_eq!(
        s.get(&outsider, "/organizations/acme/clients/c/keys")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn v0_update_echoes_the_key_in_force() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1", "admin": "true"}),
            "0",
        )
        .await;
    assert_eq!(
        r.status, 201,
        "a non-boolean admin reads as false: {}",
        r.text
    );
    let path = "/organizations/acme/clients/web1";
    let before = s.get_v(&s.superuser, path, "0").await.body["public_key"].clone();
    assert!(before.is_string());
    for body in [
        json!({"name": "web1"}),
        json!({"name": "web1", "private_key": false}),
    ] {
        let r = s.put_v(&s.superuser, path, &body, "0").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["private_key"], false);
        assert_eq!(r.body["public_key"], before);
    }
    let r = s
        .put_v(
            &s.superuser,
            path,
            &json!({"name": "web1", "private_key": null}),
            "0",
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .put_v(
            &s.superuser,
            path,
            &json!({"name": "web1", "private_key": true}),
            "0",
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["private_key"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    assert_ne!(r.body["public_key"], before);
}

#[tokio::test]
async fn key_reads_follow_public_key_read_access_membership() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201);
    let alice = s.create_user("alice").await;
    // Associated over HTTP, as pedant does.
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/users",
            &json!({"username": "alice"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let keys = "/organizations/acme/clients/web1/keys";
    assert_eq!(s.get(&alice, keys).await.status, 200);
    // What pedant's group helper sends: the group read back, minus the `users` group.
    let group = "/organizations/acme/groups/public_key_read_access";
    let g = s.get(&s.superuser, group).await.body;
    let groups: Vec<_> = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| *n != "users")
        .cloned()
        .collect();
    let body = json!({
        "groupname": "public_key_read_access",
        "actors": {"users": g["actors"], "groups": groups, "clients": g["clients"]}
    });
    let r = s.put(&s.superuser, group, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get(&alice, keys).await.status, 403);
    assert_eq!(s.get(&alice, &format!("{keys}/default")).await.status, 403);
}

#[tokio::test]
async fn group_put_in_pedant_form_with_a_client_among_actors() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201);
    let group = "/organizations/acme/groups/public_key_read_access";
    let g = s.get(&s.superuser, group).await.body;
    let body = json!({"groupname": "public_key_read_access",
        "actors": {"users": g["actors"], "groups": g["groups"], "clients": ["web1"]}});
    let r = s.put(&s.superuser, group, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let g = s.get(&s.superuser, group).await.body;
    let body = json!({"groupname": "public_key_read_access",
        "actors": {"users": g["actors"], "groups": g["groups"], "clients": []}});
    let r = s.put(&s.superuser, group, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// erchef lets a client that holds `update` on itself (every client does) turn on its own
/// `validator` flag, and then create clients; Brigade leaves that to org admins.
#[tokio::test]
async fn only_admins_raise_a_clients_validator_or_admin_flag() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let r = s
        .post_v(
            &validator,
            "/organizations/acme/clients",
            &json!({"name": "web1"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let web1 = Actor::new("web1", r.body["private_key"].as_str().unwrap());
    let path = "/organizations/acme/clients/web1";

    for field in ["validator", "admin"] {
        let r = s
            .put(&web1, path, &json!({"name": "web1", field: true}))
            .await;
        assert_eq!(r.status, 403, "{field}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"error": [format!("Only an organization admin may set '{field}' to true on a client")]})
        );
    }
    let r = s.get(&s.superuser, path).await;
    assert_eq!(r.body["validator"], false);
    let r = s
        .post(
            &web1,
            "/organizations/acme/clients",
            &json!({"name": "web9", "create_key": true}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Re-registration's body (flags off) is still the client's own business.
    let r = s
        .put_v(
            &web1,
            path,
            &json!({"name": "web1", "admin": false, "validator": false}),
            "0",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An org admin may (as pedant expects), and a flag already on may be sent again.
    let alice = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let r = s
        .put(&alice, path, &json!({"name": "web1", "validator": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["validator"], true);
    let r = s
        .put(&web1, path, &json!({"name": "web1", "validator": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .put(&s.superuser, path, &json!({"name": "web1", "admin": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

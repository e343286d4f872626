//! Groups, containers and `_acl` endpoints.

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn default_groups_and_group_membership() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    let p = s.superuser.clone();
    let r = s.get(&p, "/organizations/acme/groups").await;
    let names: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        names,
        [
            "admins",
            "billing-admins",
            "clients",
            "public_key_read_access",
            "users"
        ]
    );
    // The org's creator (here the superuser) is in `users` and `admins`, as in erchef.
    let r = s.get(&p, "/organizations/acme/groups/users").await;
    assert_eq!(r.body["users"], json!(["alice", "pivotal"]));
    assert_eq!(r.body["groupname"], "users");
    assert_eq!(r.body["orgname"], "acme");

    let r = s
        .post(
            &p,
            "/organizations/acme/groups",
            &json!({"groupname": "ops"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.post(
            &p,
            "/organizations/acme/groups",
            &json!({"groupname": "ops"})
        )
        .await
        .status,
        409
    );
    assert_eq!(
        s.post(
            &p,
            "/organizations/acme/groups",
            &json!({"groupname": "Bad Name"})
        )
        .await
        .status,
        400
    );
    let r = s.put(&p, "/organizations/acme/groups/ops", &json!({"groupname": "ops", "actors": {"users": ["alice"], "clients": ["acme-validator"], "groups": ["admins"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["actors"], json!(["acme-validator", "alice"]));
    assert_eq!(r.body["groups"], json!(["admins"]));
    let r = s
        .put(
            &p,
            "/organizations/acme/groups/ops",
            &json!({"actors": {"users": ["nobody", "alice"]}}),
        )
        .await;
    // Unknown names are dropped, as the real server does.
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["actors"], json!(["alice"]));
    // Alice cannot create groups (users may only read the groups container) ...
    assert_eq!(
        s.post(
            &alice,
            "/organizations/acme/groups",
            &json!({"groupname": "x"})
        )
        .await
        .status,
        403
    );
    // ... until she is an admin.
    s.add_to_group("acme", "admins", "alice").await;
    assert_eq!(
        s.post(
            &alice,
            "/organizations/acme/groups",
            &json!({"groupname": "x"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        s.delete(&p, "/organizations/acme/groups/x").await.status,
        200
    );
    assert_eq!(
        s.get(&p, "/organizations/acme/groups/x").await.body,
        json!({"error": ["Cannot load group x"]})
    );

    let r = s.get(&p, "/organizations/acme/containers/nodes").await;
    assert_eq!(
        r.body,
        json!({"containername": "nodes", "containerpath": "nodes"})
    );
    assert_eq!(
        s.get(&p, "/organizations/acme/containers")
            .await
            .body
            .as_object()
            .unwrap()
            .len(),
        12
    );
}

#[tokio::test]
async fn acl_show_and_update() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let bob = s.create_user("bob").await;
    s.associate("acme", "bob").await;
    let p = s.superuser.clone();
    assert_eq!(
        s.post(&p, "/organizations/acme/nodes", &json!({"name": "n1"}))
            .await
            .status,
        201
    );
    let r = s.get(&p, "/organizations/acme/nodes/n1/_acl").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["read"]["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("users")));
    assert!(r.body["grant"]["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("admins")));
    assert!(r.body["delete"]["actors"]
        .as_array()
        .unwrap()
        .contains(&json!("pivotal")));
    // Bob (in users) may read the node but not its ACL.
    assert_eq!(
        s.get(&bob, "/organizations/acme/nodes/n1").await.status,
        200
    );
    assert_eq!(
        s.get(&bob, "/organizations/acme/nodes/n1/_acl")
            .await
            .status,
        403
    );

    // Take read away from `users`: bob loses access at once.
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": ["pivotal"], "groups": ["admins"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({}));
    assert_eq!(
        s.get(&bob, "/organizations/acme/nodes/n1").await.status,
        403
    );
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": ["bob"], "groups": []}}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.get(&bob, "/organizations/acme/nodes/n1").await.status,
        200
    );

    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": ["ghost"], "groups": []}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["The actor(s) 'ghost' do not exist in this organization as clients or users."]})
    );
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": [], "groups": ["nope"]}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["The group(s) 'nope' do not exist in this organization."]})
    );
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": []}}),
        )
        .await;
    assert_eq!(r.status, 400);

    for path in [
        "/organizations/acme/organizations/_acl",
        "/organizations/acme/groups/admins/_acl",
        "/organizations/acme/containers/nodes/_acl",
        "/organizations/acme/clients/acme-validator/_acl",
        "/organizations/acme/environments/_default/_acl",
        "/users/bob/_acl",
    ] {
        let r = s.get(&p, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(r.body["grant"].is_object(), "{path}");
    }
    let r = s.get(&p, "/organizations/acme/data/none/_acl").await;
    assert_eq!(r.status, 404);
    let r = s
        .get(&p, "/organizations/acme/nodes/n1/_acl?detail=granular")
        .await;
    assert_eq!(r.body["read"]["users"], json!(["bob"]));
}

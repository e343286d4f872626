//! The authorization model around ACLs: global groups (`::server-admins`,
//! `::ORG_read_access_group`), groups of other orgs (`ORG::group`), user ACLs, the seed of a
//! new org, container ACLs and the grant-ACE constraint.

mod common;

use common::TestServer;
use serde_json::{json, Value};

fn sorted(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn user_acl_names_server_admins_and_each_orgs_read_access_group() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    let bob = s.create_user("bob").await;
    let p = s.superuser.clone();

    let r = s.get(&alice, "/users/alice/_acl").await;
    assert_eq!(r.status, 200, "{}", r.text);
    for perm in ["create", "read", "update", "delete", "grant"] {
        assert_eq!(
            sorted(&r.body[perm]["actors"]),
            ["alice", "pivotal"],
            "{perm}"
        );
    }
    for perm in ["create", "read", "update", "delete"] {
        assert_eq!(r.body[perm]["groups"], json!(["::server-admins"]), "{perm}");
    }
    assert_eq!(r.body["grant"]["groups"], json!([]));

    // Joining an org lets the org's members read alice, through its read-access group.
    assert_eq!(s.get(&bob, "/users/alice").await.status, 403);
    s.associate("acme", "alice").await;
    s.associate("acme", "bob").await;
    let r = s.get(&p, "/users/alice/_acl").await;
    assert_eq!(
        sorted(&r.body["read"]["groups"]),
        ["::acme_read_access_group", "::server-admins"]
    );
    assert_eq!(s.get(&bob, "/users/alice").await.status, 200);
    let r = s.delete(&p, "/organizations/acme/users/alice").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&p, "/users/alice/_acl").await;
    assert_eq!(r.body["read"]["groups"], json!(["::server-admins"]));
    assert_eq!(s.get(&bob, "/users/alice").await.status, 403);

    // A user ACL takes global groups and any user; bare group names are global there.
    let put = |body: Value| {
        let s = &s;
        let alice = alice.clone();
        async move { s.put(&alice, "/users/alice/_acl/read", &body).await }
    };
    let r = put(json!({"read": {"actors": ["alice", "bob"], "groups": ["::server-admins", "::acme_read_access_group"]}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&alice, "/users/alice/_acl").await;
    assert_eq!(sorted(&r.body["read"]["actors"]), ["alice", "bob"]);
    let r = put(json!({"read": {"actors": ["alice"], "groups": ["admins"]}})).await;
    assert_eq!(
        r.body,
        json!({"error": ["The group(s) 'admins' do not exist in this organization."]})
    );
    let r = put(json!({"read": {"actors": ["ghost"], "groups": []}})).await;
    assert_eq!(
        r.body,
        json!({"error": ["The actor(s) 'ghost' is not a valid user (clients are not allowed in this context)."]})
    );
    let r = put(json!({"read": {"actors": [], "users": ["alice"], "clients": ["acme-validator"], "groups": []}})).await;
    assert_eq!(
        r.body,
        json!({"error": ["Clients can not be added to global ACL entries."]})
    );
    let r = put(
        json!({"read": {"actors": [], "users": ["alice", "x", "y"], "clients": [], "groups": []}}),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"error": ["The users 'x', 'y' do not exist."]})
    );
    // Bob holds no grant on alice.
    let r = s
        .put(
            &bob,
            "/users/alice/_acl/read",
            &json!({"read": {"actors": ["bob"], "groups": []}}),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn aces_and_groups_take_global_and_other_org_groups() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    s.create_org("other").await;
    let p = s.superuser.clone();
    let r = s
        .post(&p, "/organizations/acme/nodes", &json!({"name": "n1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let groups = json!(["admins", "::server-admins", "other::admins"]);
    for path in [
        "/organizations/acme/nodes/n1/_acl/read",
        "/organizations/acme/organizations/_acl/read",
        "/organizations/acme/containers/nodes/_acl/read",
    ] {
        let r = s
            .put(
                &p,
                path,
                &json!({"read": {"actors": ["pivotal"], "groups": groups}}),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let r = s.get(&p, path.trim_end_matches("/read")).await;
        assert_eq!(
            sorted(&r.body["read"]["groups"]),
            ["::server-admins", "admins", "other::admins"],
            "{path}"
        );
    }
    // Seen from the other org, acme's groups are scoped and the other's own are bare.
    let r = s
        .put(
            &p,
            "/organizations/other/organizations/_acl/read",
            &json!({"read": {"actors": [], "groups": ["users", "acme::users"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&p, "/organizations/other/organizations/_acl").await;
    assert_eq!(sorted(&r.body["read"]["groups"]), ["acme::users", "users"]);

    for (bad, name) in [
        ("nowhere::admins", "nowhere::admins"),
        ("other::nope", "other::nope"),
        ("::admins", "::admins"),
        ("a::b::c", "a::b::c"),
    ] {
        let r = s
            .put(
                &p,
                "/organizations/acme/nodes/n1/_acl/read",
                &json!({"read": {"actors": [], "groups": ["admins", bad]}}),
            )
            .await;
        assert_eq!(
            r.body,
            json!({"error": [format!("The group(s) '{name}' do not exist in this organization.")]})
        );
    }
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": ["other::pivotal"], "groups": []}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["Scoped actor names are not allowed in this context: 'other::pivotal'"]})
    );
    let r = s
        .put(
            &p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": [], "users": ["ghost"], "clients": [], "groups": []}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["The user(s) 'ghost' do not exist in this organization."]})
    );

    // Group members may be global groups and groups of other orgs too.
    s.post(&p, "/organizations/acme/groups", &json!({"id": "ops"}))
        .await;
    let r = s
        .put(
            &p,
            "/organizations/acme/groups/ops",
            &json!({"groupname": "ops", "actors": {"users": [], "clients": [], "groups": ["users", "::server-admins", "other::admins"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&p, "/organizations/acme/groups/ops").await;
    assert_eq!(
        sorted(&r.body["groups"]),
        ["::server-admins", "other::admins", "users"]
    );

    // Deleting an org takes its read-access group along; the other org's ACLs forget it.
    assert_eq!(s.delete(&p, "/organizations/other").await.status, 200);
    let r = s.get(&p, "/organizations/acme/groups/ops").await;
    assert_eq!(sorted(&r.body["groups"]), ["::server-admins", "users"]);
    let r = s.get(&p, "/organizations").await;
    assert_eq!(
        sorted(&Value::Array(
            r.body
                .as_object()
                .unwrap()
                .keys()
                .map(|k| json!(k))
                .collect()
        )),
        ["acme"]
    );
}

#[tokio::test]
async fn new_org_puts_creator_in_admins_and_validator_in_clients() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = s.superuser.clone();
    let r = s.get(&p, "/organizations/acme/groups/admins").await;
    assert_eq!(r.body["users"], json!(["pivotal"]));
    let r = s
        .post(&p, "/organizations/acme/clients", &json!({"name": "c1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.get(&p, "/organizations/acme/groups/clients").await;
    assert_eq!(r.body["clients"], json!(["acme-validator", "c1"]));
    // The superuser is not made a member of the org.
    let r = s.get(&p, "/organizations/acme/users").await;
    assert_eq!(r.body, json!([]));
    // The org's read-access group is global: not among the org's groups.
    let r = s.get(&p, "/organizations/acme/groups").await;
    assert!(!r
        .body
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.contains("read_access_group")));
}

#[tokio::test]
async fn containers_do_not_inherit_and_admins_stay_in_grant_aces() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let bob = s.create_user("bob").await;
    s.associate("acme", "bob").await;
    let p = s.superuser.clone();

    let r = s
        .post(
            &alice,
            "/organizations/acme/containers",
            &json!({"id": "stuff", "containerpath": "/"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s
        .get(&alice, "/organizations/acme/containers/stuff/_acl")
        .await;
    for perm in ["create", "read", "update", "delete", "grant"] {
        assert_eq!(r.body[perm], json!({"actors": ["alice"], "groups": []}));
    }
    assert_eq!(
        s.get(&bob, "/organizations/acme/containers/stuff")
            .await
            .status,
        403
    );
    assert_eq!(
        s.get(&alice, "/organizations/acme/containers/stuff")
            .await
            .status,
        200
    );

    // Only the superuser may take `admins` out of a grant ACE that has it.
    let drop_admins = json!({"grant": {"actors": ["pivotal", "alice"], "groups": []}});
    let r = s
        .put(
            &alice,
            "/organizations/acme/groups/users/_acl/grant",
            &drop_admins,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({"error": ["Admin group cannot be removed from the Grant ACE"]})
    );
    // Other ACEs are not constrained; nor is the superuser.
    let r = s
        .put(
            &alice,
            "/organizations/acme/groups/users/_acl/read",
            &json!({"read": {"actors": ["pivotal", "alice"], "groups": []}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .put(
            &p,
            "/organizations/acme/groups/users/_acl/grant",
            &drop_admins,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // With `admins` gone already, an admin may set the grant ACE again.
    let r = s
        .put(
            &alice,
            "/organizations/acme/groups/users/_acl/grant",
            &drop_admins,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

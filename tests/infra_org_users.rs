//! Org members and invitations (association requests).

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn invite_accept_list_and_remove() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let admin = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let bob = s.create_user("bob").await;

    let r = s
        .post(
            &admin,
            "/organizations/acme/association_requests",
            &json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["organization"]["name"], "acme");
    assert_eq!(r.body["organization_user"]["username"], "alice");
    let id = r.body["uri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let r = s
        .post(
            &admin,
            "/organizations/acme/association_requests",
            &json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": "The invite already exists."}));
    let r = s
        .get(&admin, "/organizations/acme/association_requests")
        .await;
    assert_eq!(r.body, json!([{"id": id, "username": "bob"}]));

    assert_eq!(
        s.get(&bob, "/users/bob/association_requests/count")
            .await
            .body,
        json!({"value": 1})
    );
    let r = s.get(&bob, "/users/bob/association_requests").await;
    assert_eq!(r.body, json!([{"id": id, "orgname": "acme"}]));
    assert_eq!(
        s.get(&admin, "/users/bob/association_requests")
            .await
            .status,
        403
    );
    let r = s
        .put(
            &bob,
            &format!("/users/bob/association_requests/{id}"),
            &json!({"response": "maybe"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .put(
            &bob,
            &format!("/users/bob/association_requests/{id}"),
            &json!({"response": "accept"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["orgname"], "acme");

    assert_eq!(
        s.get(&bob, "/organizations/acme/nodes").await.status,
        200,
        "now a member"
    );
    let r = s.get(&admin, "/organizations/acme/users").await;
    assert_eq!(
        r.body,
        json!([{"user": {"username": "alice"}}, {"user": {"username": "bob"}}])
    );
    let r = s.get(&admin, "/organizations/acme/users/bob").await;
    assert_eq!(r.body["username"], "bob");
    let r = s
        .post(
            &admin,
            "/organizations/acme/association_requests",
            &json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": "The association already exists."}));
    let r = s.get(&admin, "/organizations/acme/users/bob/keys").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["name"], "default");

    let r = s
        .delete(&s.superuser, "/organizations/acme/users/alice")
        .await;
    assert_eq!(r.status, 403, "admins must leave the admins group first");
    let r = s.delete(&admin, "/organizations/acme/users/bob").await;
    assert_eq!(r.status, 200);
    assert_eq!(s.get(&bob, "/organizations/acme/nodes").await.status, 403);
    let r = s.get(&admin, "/organizations/acme/users/bob").await;
    assert_eq!(
        r.body,
        json!({"error": "Cannot find a user bob in organization acme"})
    );
}

#[tokio::test]
async fn force_association_is_superuser_only() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let bob = s.create_user("bob").await;
    s.create_user("carol").await;
    assert_eq!(
        s.post(
            &bob,
            "/organizations/acme/users",
            &json!({"username": "carol"})
        )
        .await
        .status,
        403
    );
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/users",
            &json!({"username": "bob"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(s.get(&bob, "/organizations/acme/nodes").await.status, 200);
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/users",
            &json!({"username": "bob"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": "The association already exists."}));
    assert_eq!(
        s.post(
            &s.superuser,
            "/organizations/acme/users",
            &json!({"username": "ghost"})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn invitations_die_with_the_inviters_admin_rights() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let admin = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &admin,
            "/organizations/acme/association_requests",
            &json!({"user": "bob"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["uri"].as_str().unwrap().rsplit('/').next().unwrap();

    // Alice leaves `admins`: her invitation can no longer be accepted.
    let r = s
        .put(
            &s.superuser,
            "/organizations/acme/groups/admins",
            &json!({"groupname": "admins", "actors": {"users": ["pivotal"], "clients": [], "groups": []}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = format!("/users/bob/association_requests/{id}");
    let r = s.put(&bob, &url, &json!({"response": "accept"})).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        json!({"error": "This invitation is no longer valid. Please notify an administrator and request to be re-invited to the organization."})
    );
    assert_eq!(s.get(&bob, "/organizations/acme/nodes").await.status, 403);
    // It may still be declined.
    let r = s.put(&bob, &url, &json!({"response": "reject"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

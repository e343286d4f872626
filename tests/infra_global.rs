//! Global Infra endpoints: `/_status`, `/server_api_version`, `/license`, organizations.

mod common;

use common::{Actor, TestServer};
use serde_json::json;

#[tokio::test]
async fn status_is_unsigned_and_checks_the_database() {
    let s = TestServer::start().await;
    let r = s.raw(s.client().get(s.url("/_status"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "pong");
    assert_eq!(r.body["upstreams"]["chef_sql"], "pong");
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn server_api_version_and_license() {
    let s = TestServer::start().await;
    let r = s.get(&s.superuser, "/server_api_version").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"min_api_version": 0, "max_api_version": 2}));
    let r = s.raw(s.client().get(s.url("/server_api_version"))).await;
    assert_eq!(r.status, 400, "signed only");

    let r = s.get(&s.superuser, "/license").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"limit_exceeded": false, "node_license": 25, "node_count": 0,
               "upgrade_url": "https://www.chef.io/pricing"})
    );
}

#[tokio::test]
async fn license_counts_nodes_against_the_configured_limit() {
    let s = TestServer::start_with(|c| c.license.nodes = 1).await;
    s.create_org("acme").await;
    for name in ["n1", "n2"] {
        let r = s
            .post(
                &s.superuser,
                "/organizations/acme/nodes",
                &json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = s.get(&s.superuser, "/license").await;
        assert_eq!(r.body["node_count"], if name == "n1" { 1 } else { 2 });
        assert_eq!(r.body["limit_exceeded"], name == "n2");
    }
}

#[tokio::test]
async fn org_create_makes_validator_groups_containers_and_default_environment() {
    let s = TestServer::start().await;
    let r = s
        .post(
            &s.superuser,
            "/organizations",
            &json!({"name": "acme", "full_name": "Acme Inc."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["clientname"], "acme-validator");
    assert_eq!(r.body["uri"], s.url("/organizations/acme"));
    assert_eq!(r.header("location").unwrap(), s.url("/organizations/acme"));
    let validator = Actor::new("acme-validator", r.body["private_key"].as_str().unwrap());

    // The validator's key authenticates inside its org (it may not read the org itself).
    let r = s.get(&validator, "/organizations/acme").await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = s.get(&s.superuser, "/organizations/acme").await;
    assert_eq!(r.body["name"], "acme");
    assert_eq!(r.body["full_name"], "Acme Inc.");
    assert!(r.body["guid"].as_str().unwrap().len() >= 32);

    let store = &s.state.store;
    let org = store.org_by_name("acme").await.unwrap().unwrap();
    for c in [
        "clients",
        "containers",
        "cookbooks",
        "data",
        "environments",
        "groups",
        "nodes",
        "roles",
        "sandboxes",
        "policies",
        "policy_groups",
        "cookbook_artifacts",
    ] {
        assert!(
            store.container_id(&org.id, c).await.unwrap().is_some(),
            "container {c}"
        );
    }
    let env = store
        .object(&org.id, "environment", "", "_default")
        .await
        .unwrap()
        .unwrap();
    let env: serde_json::Value = serde_json::from_str(&env.body).unwrap();
    assert_eq!(env["description"], "The default Chef environment");

    let r = s
        .post(
            &s.superuser,
            "/organizations",
            &json!({"name": "acme", "full_name": "Again"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": "Organization already exists"}));
}

#[tokio::test]
async fn org_validation_and_permissions() {
    let s = TestServer::start().await;
    for bad in [
        json!({"full_name": "x"}),
        json!({"name": "Bad Name", "full_name": "x"}),
        json!({"name": "ok"}),
        json!({"name": "ok", "full_name": " lead"}),
    ] {
        let r = s.post(&s.superuser, "/organizations", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(r.body["error"].is_array());
    }
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &bob,
            "/organizations",
            &json!({"name": "bobs", "full_name": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = s.get(&bob, "/organizations").await;
    assert_eq!(r.status, 403);
    let r = s.get(&s.superuser, "/organizations/none").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn org_list_update_delete() {
    let s = TestServer::start().await;
    s.create_org("one").await;
    s.create_org("two").await;
    let r = s.get(&s.superuser, "/organizations").await;
    assert_eq!(
        r.body,
        json!({"one": s.url("/organizations/one"), "two": s.url("/organizations/two")})
    );

    let r = s
        .put(
            &s.superuser,
            "/organizations/one",
            &json!({"name": "one", "full_name": "Number One"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["full_name"], "Number One");
    let r = s
        .put(
            &s.superuser,
            "/organizations/one",
            &json!({"name": "other", "full_name": "x"}),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = s.delete(&s.superuser, "/organizations/two").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "two");
    let r = s.get(&s.superuser, "/organizations/two").await;
    assert_eq!(r.status, 404);
    // The deleted org's validator is gone with it.
    assert!(s.state.store.org_by_name("two").await.unwrap().is_none());
}

#[tokio::test]
async fn org_admins_may_read_and_update_their_org_but_plain_members_not_update() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    let bob = s.create_user("bob").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    s.associate("acme", "bob").await;
    let r = s
        .put(
            &alice,
            "/organizations/acme",
            &json!({"name": "acme", "full_name": "Alice's"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A PUT is the whole org: both names are required, and keys are not changed here.
    for (body, msg) in [
        (json!({"full_name": "x"}), "Field 'name' missing"),
        (json!({"name": "acme"}), "Field 'full_name' missing"),
        (
            json!({"name": "other", "full_name": "x"}),
            "Field 'name' invalid",
        ),
    ] {
        let r = s.put(&alice, "/organizations/acme", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body, json!({ "error": [msg] }));
    }
    let r = s
        .put(
            &alice,
            "/organizations/acme",
            &json!({"name": "acme", "full_name": "x", "private_key": "k"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .put(
            &bob,
            "/organizations/acme",
            &json!({"name": "acme", "full_name": "Bob's"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body, json!({"error": ["missing update permission"]}));
    let r = s.get(&bob, "/organizations/acme").await;
    assert_eq!(r.status, 200);
}

//! Policyfile policies, revisions and policy groups.

mod common;

use common::TestServer;
use serde_json::{json, Value};

fn policy(name: &str, rev: &str) -> Value {
    json!({
        "revision_id": rev,
        "name": name,
        "run_list": ["recipe[demo::default]"],
        "cookbook_locks": {"demo": {"identifier": "f04cc40faf628253fe7d9566d66a1733fb1afbe9", "version": "1.2.3"}},
        "extra": {"kept": true}
    })
}

#[tokio::test]
async fn push_to_a_group_then_read_list_and_delete() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let url = "/organizations/acme/policy_groups/dev/policies/app";
    let doc = policy("app", &"1".repeat(40));
    let r = s.put(su, url, &doc).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, doc);
    assert_eq!(
        r.header("location"),
        Some(s.url("/organizations/acme/policies/app").as_str())
    );
    assert_eq!(s.put(su, url, &doc).await.status, 200);
    assert_eq!(s.get(su, url).await.body, doc);

    let r = s.get(su, "/organizations/acme/policies").await;
    assert_eq!(
        r.body,
        json!({"app": {"uri": s.url("/organizations/acme/policies/app"),
            "revisions": {"1".repeat(40): {}}}})
    );
    let r = s.get(su, "/organizations/acme/policy_groups").await;
    assert_eq!(
        r.body,
        json!({"dev": {"uri": s.url("/organizations/acme/policy_groups/dev"),
            "policies": {"app": {"revision_id": "1".repeat(40)}}}})
    );
    let rev = format!(
        "/organizations/acme/policies/app/revisions/{}",
        "1".repeat(40)
    );
    let r = s.get(su, &rev).await;
    assert_eq!(r.body["policy_group_list"], json!(["dev"]));
    assert_eq!(r.body["extra"], json!({"kept": true}));

    // Removing the assignment keeps the policy; the group stays, without policies.
    assert_eq!(s.delete(su, url).await.status, 200);
    assert_eq!(s.get(su, url).await.status, 404);
    let r = s.get(su, "/organizations/acme/policy_groups").await;
    assert_eq!(
        r.body,
        json!({"dev": {"uri": s.url("/organizations/acme/policy_groups/dev")}})
    );
    assert_eq!(s.get(su, &rev).await.status, 200);
    let r = s.delete(su, "/organizations/acme/policies/app").await;
    assert_eq!(r.body, json!({"revisions": {"1".repeat(40): {}}}));
    assert_eq!(
        s.get(su, "/organizations/acme/policies/app").await.status,
        404
    );
    assert_eq!(
        s.delete(su, "/organizations/acme/policy_groups/dev")
            .await
            .status,
        200
    );
    assert_eq!(
        s.get(su, "/organizations/acme/policy_groups/dev")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn revisions_are_created_once_and_validated() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let revs = "/organizations/acme/policies/app/revisions";
    let r = s.post(su, revs, &policy("app", "r1")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.post(su, revs, &policy("app", "r1")).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!("Policy 'app' with revision_id 'r1 already exists.")
    );
    let r = s.post(su, revs, &policy("other", "r2")).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["Field 'name' invalid : app does not match other"]})
    );
    let mut bad = policy("app", "r3");
    bad["run_list"] = json!(["role[web]"]);
    let r = s.post(su, revs, &bad).await;
    assert_eq!(
        r.body,
        json!({"error": ["Field 'run_list' is not a valid run list"]})
    );
    assert_eq!(s.get(su, &format!("{revs}/r1")).await.status, 200);
    assert_eq!(s.delete(su, &format!("{revs}/r1")).await.status, 200);
    assert_eq!(s.get(su, &format!("{revs}/r1")).await.status, 404);
    // The policy (and its ACL) outlives its revisions.
    assert_eq!(
        s.get(su, "/organizations/acme/policies/app/_acl")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn permissions_follow_containers_and_objects() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    let url = "/organizations/acme/policy_groups/dev/policies/app";
    // The validator may not create policies; an org member (users group) may.
    assert_eq!(
        s.put(&validator, url, &policy("app", "r1")).await.status,
        403
    );
    assert_eq!(s.put(&alice, url, &policy("app", "r1")).await.status, 201);
    let outsider = s.create_user("mallory").await;
    assert_eq!(s.get(&outsider, url).await.status, 403);
    let r = s
        .get(&s.superuser, "/organizations/acme/policy_groups/dev/_acl")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["read"]["actors"]
        .as_array()
        .unwrap()
        .contains(&json!("alice")));
}

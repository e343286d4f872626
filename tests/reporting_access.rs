//! Who may post and read run reports (`src/api/reporting/access.rs`): a node's runs are
//! posted by its own client or an admin (or a user with update on the node), read by its
//! own client, admins and users with read on the node; org-wide lists and statistics are
//! for the org's users. Other clients, the validator among them, get 403.

mod common;
mod reporting_common;

use common::{Actor, TestServer};
use reporting_common::*;
use serde_json::json;

const ORG: &str = "/organizations/acme";
const RUNS: &str = "/organizations/acme/reports/nodes/web1/runs";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The org of `org_with_node` and everyone in it: its validator, node client web1 (owner
/// of node web1), client web2 (no node), admin alice, and bob, a plain member.
struct Cast {
    validator: Actor,
    web1: Actor,
    web2: Actor,
    admin: Actor,
    bob: Actor,
}

async fn cast(s: &TestServer) -> Cast {
    let validator = s.create_org("acme").await;
    let client = |name: &'static str| {
        let validator = validator.clone();
        async move {
            let r = s
                .post_v(
                    &validator,
                    &format!("{ORG}/clients"),
                    &json!({"name": name}),
                    "0",
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            Actor::new(name, r.body["private_key"].as_str().unwrap())
        }
    };
    let web1 = client("web1").await;
    let web2 = client("web2").await;
    let r = s
        .post(&web1, &format!("{ORG}/nodes"), &json!({"name": "web1"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let admin = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let bob = s.create_user("bob").await;
    s.associate("acme", "bob").await;
    Cast {
        validator,
        web1,
        web2,
        admin,
        bob,
    }
}

fn assert_forbidden(r: &common::Response, perm: &str, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.text);
    assert_eq!(
        r.body,
        json!({"error": [format!("missing {perm} permission")]}),
        "{what}"
    );
}

#[tokio::test]
async fn a_nodes_runs_are_read_by_its_client_admins_and_readers_only() {
    let s = start().await;
    let c = cast(&s).await;
    let id = record_run(&s, &c.web1, "success", now() - 100, 20, 2).await;
    let node_reads = [
        RUNS.to_string(),
        format!("{RUNS}/{id}?detail=true"),
        format!("{RUNS}/{id}/0"),
    ];
    for path in &node_reads {
        // Another node's client and the validator read the node, but not its reports.
        for who in [&c.web2, &c.validator] {
            assert_forbidden(&get(&s, who, path).await, "read", path);
        }
        for who in [&c.web1, &c.admin, &c.bob, &s.superuser] {
            let r = get(&s, who, path).await;
            assert_eq!(r.status, 200, "{} {path}: {}", who.name, r.text);
        }
    }
    let r = get(&s, &c.admin, &format!("{RUNS}/{id}?detail=true")).await;
    assert_eq!(r.body["run_resources"][0]["final_state"]["owner"], "root");
    // Refused before the run is looked up: an unknown run is a 403 too, not a 404.
    let unknown = format!("{RUNS}/{}", new_run_id());
    assert_forbidden(&get(&s, &c.web2, &unknown).await, "read", &unknown);

    // Users read through the node's ACL: without read on web1, bob is refused.
    let r = s
        .put(
            &s.superuser,
            &format!("{ORG}/nodes/web1/_acl/read"),
            &json!({"read": {"actors": ["web1"], "groups": ["admins"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_forbidden(&get(&s, &c.bob, RUNS).await, "read", "bob, no ACE");
    assert_eq!(get(&s, &c.admin, RUNS).await.status, 200);

    // A node that does not exist: read on the nodes container, which users have.
    let ghost = format!("{ORG}/reports/nodes/ghost/runs");
    assert_forbidden(&get(&s, &c.web2, &ghost).await, "read", &ghost);
    let r = get(&s, &c.bob, &ghost).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 0);
}

#[tokio::test]
async fn org_wide_reads_are_for_users_not_clients() {
    let s = start().await;
    let c = cast(&s).await;
    record_run(&s, &c.web1, "success", now() - 100, 20, 1).await;
    for path in [
        format!("{ORG}/reports/org/runs"),
        format!("{ORG}/reports/runs/counts?granularity=hour"),
        format!("{ORG}/reports/runs/durations"),
        format!("{ORG}/reports/runs/counts?granularity=hour&node=web1"),
    ] {
        for who in [&c.web1, &c.web2, &c.validator] {
            assert_forbidden(&get(&s, who, &path).await, "read", &path);
        }
        for who in [&c.admin, &c.bob, &s.superuser] {
            let r = get(&s, who, &path).await;
            assert_eq!(r.status, 200, "{} {path}: {}", who.name, r.text);
        }
    }
    let r = get(&s, &c.bob, &format!("{ORG}/reports/org/runs")).await;
    assert_eq!(r.body["total"], 1);
}

#[tokio::test]
async fn runs_are_posted_by_the_nodes_client_or_an_admin() {
    let s = start().await;
    let c = cast(&s).await;
    let t0 = now() - 10;
    let ghost = format!("{ORG}/reports/nodes/ghost/runs");

    // No client may report runs of a node that is not its own, existing or not.
    for (who, path) in [
        (&c.web2, RUNS.to_string()),
        (&c.web2, ghost.clone()),
        (&c.validator, RUNS.to_string()),
        (&c.validator, ghost.clone()),
        (
            &c.validator,
            format!("{ORG}/reports/nodes/acme-validator/runs"),
        ),
    ] {
        let r = post(&s, who, &path, &start_body(&new_run_id(), t0)).await;
        assert_forbidden(&r, "update", &format!("{} {path}", who.name));
    }
    // Nor end one: the node's own run, posted by another client.
    let id = new_run_id();
    assert_eq!(
        post(&s, &c.web1, RUNS, &start_body(&id, t0)).await.status,
        201
    );
    let r = post_gzip(
        &s,
        &c.web2,
        &format!("{RUNS}/{id}"),
        &end_body("success", t0, t0 + 5, 1),
    )
    .await;
    assert_forbidden(&r, "update", "web2 ends web1's run");
    // Nothing of theirs was stored.
    let r = get(&s, &c.admin, &format!("{ORG}/reports/org/runs")).await;
    assert_eq!(r.body["total"], 1, "{}", r.text);

    // A node's own client may, before its node object exists (chef-client's first run).
    let web2_runs = format!("{ORG}/reports/nodes/web2/runs");
    let r = post(&s, &c.web2, &web2_runs, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // An admin may post for any node; a user with update on the node for that node only.
    let r = post(&s, &c.admin, &ghost, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(&s, &c.bob, RUNS, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = post(&s, &c.bob, &ghost, &start_body(&new_run_id(), t0)).await;
    assert_forbidden(&r, "update", "bob, no node");
}

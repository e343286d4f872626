//! Nodes, roles and environments: lifecycle, validation, messages and permissions.

mod common;

use common::TestServer;
use serde_json::json;

async fn org_with_users(s: &TestServer) -> (common::Actor, common::Actor) {
    s.create_org("acme").await;
    let admin = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    s.add_to_group("acme", "admins", "alice").await;
    let member = s.create_user("bob").await;
    s.associate("acme", "bob").await;
    (admin, member)
}

#[tokio::test]
async fn node_lifecycle() {
    let s = TestServer::start().await;
    let (admin, member) = org_with_users(&s).await;
    let r = s
        .post(
            &member,
            "/organizations/acme/nodes",
            &json!({"name": "web1", "run_list": ["base"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"uri": s.url("/organizations/acme/nodes/web1")})
    );
    let r = s
        .post(
            &member,
            "/organizations/acme/nodes",
            &json!({"name": "web1"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": ["Node already exists"]}));

    let r = s.get(&admin, "/organizations/acme/nodes/web1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["run_list"], json!(["recipe[base]"]));
    assert_eq!(r.body["chef_environment"], "_default");
    assert_eq!(r.body["json_class"], "Chef::Node");
    assert_eq!(r.body["automatic"], json!({}));

    let r = s.get(&admin, "/organizations/acme/nodes").await;
    assert_eq!(
        r.body,
        json!({"web1": s.url("/organizations/acme/nodes/web1")})
    );

    let r = s
        .put(
            &admin,
            "/organizations/acme/nodes/web1",
            &json!({"normal": {"tags": ["x"]}, "run_list": ["role[web]"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "web1");
    assert_eq!(r.body["normal"]["tags"], json!(["x"]));
    let r = s
        .put(
            &admin,
            "/organizations/acme/nodes/web1",
            &json!({"name": "other"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"error": ["Node name mismatch."]}));

    let r = s.delete(&admin, "/organizations/acme/nodes/web1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["normal"]["tags"], json!(["x"]));
    let r = s.get(&admin, "/organizations/acme/nodes/web1").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"error": ["node 'web1' not found"]}));
    let r = s
        .put(&admin, "/organizations/acme/nodes/web1", &json!({}))
        .await;
    assert_eq!(r.status, 404, "chef-client POSTs after a 404 PUT");
}

#[tokio::test]
async fn node_validation_errors_store_nothing() {
    let s = TestServer::start().await;
    let (admin, _) = org_with_users(&s).await;
    for (body, msg) in [
        (json!({"name": "a b"}), "Field 'name' invalid"),
        (
            json!({"name": "n", "normal": "x"}),
            "Field 'normal' is not a hash",
        ),
        (
            json!({"name": "n", "run_list": ["recipe[]"]}),
            "Field 'run_list' is not a valid run list",
        ),
        (
            json!({"name": "n", "nonsense": 1}),
            "Invalid key nonsense in request body",
        ),
        (
            json!({"name": "n", "chef_type": "role"}),
            "Field 'chef_type' invalid",
        ),
    ] {
        let r = s.post(&admin, "/organizations/acme/nodes", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body, json!({"error": [msg]}), "{body}");
    }
    assert_eq!(
        s.get(&admin, "/organizations/acme/nodes").await.body,
        json!({})
    );
}

#[tokio::test]
async fn roles_and_environments() {
    let s = TestServer::start().await;
    let (admin, _) = org_with_users(&s).await;
    let r = s.post(&admin, "/organizations/acme/roles", &json!({"name": "web", "run_list": ["nginx"], "env_run_lists": {"prod": ["nginx::ssl"]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.get(&admin, "/organizations/acme/roles/web").await;
    assert_eq!(
        r.body["env_run_lists"],
        json!({"prod": ["recipe[nginx::ssl]"]})
    );
    assert_eq!(r.body["json_class"], "Chef::Role");
    assert_eq!(
        s.get(&admin, "/organizations/acme/roles/nope").await.body,
        json!({"error": ["Cannot load role nope"]})
    );
    let r = s
        .put(
            &admin,
            "/organizations/acme/roles/web",
            &json!({"name": "web", "description": "Web"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["description"], "Web");

    let r = s
        .get(&admin, "/organizations/acme/environments/_default")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["description"], "The default Chef environment");
    for method in ["PUT", "DELETE"] {
        let body = json!({"name": "_default", "description": "changed"});
        let r = s
            .signed(
                &admin,
                method,
                "/organizations/acme/environments/_default",
                Some(&body),
                brigade::auth::signed_header::SignVersion::V1_1,
                "1",
            )
            .await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(
            r.body,
            json!({"error": ["The '_default' environment cannot be modified."]})
        );
    }
    let r = s
        .post(
            &admin,
            "/organizations/acme/environments",
            &json!({"name": "prod", "cookbook_versions": {"nginx": ">= 1.0"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s
        .post(
            &admin,
            "/organizations/acme/environments",
            &json!({"name": "bad", "cookbook_versions": {"nginx": ">=1.0"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .put(
            &admin,
            "/organizations/acme/environments/prod",
            &json!({"name": "production"}),
        )
        .await;
    assert_eq!(r.status, 201, "rename: {}", r.text);
    assert_eq!(
        r.header("location").unwrap(),
        s.url("/organizations/acme/environments/production")
    );
    assert_eq!(
        s.get(&admin, "/organizations/acme/environments/prod")
            .await
            .status,
        404
    );
    let r = s.get(&admin, "/organizations/acme/environments").await;
    assert_eq!(r.body.as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn permissions_follow_container_and_object_acls() {
    let s = TestServer::start().await;
    let (admin, member) = org_with_users(&s).await;
    let outsider = s.create_user("eve").await;
    assert_eq!(
        s.get(&outsider, "/organizations/acme/nodes").await.status,
        403
    );
    let r = s
        .post(&admin, "/organizations/acme/nodes", &json!({"name": "db1"}))
        .await;
    assert_eq!(r.status, 201);
    // Members of `users` may read and update nodes made by others.
    assert_eq!(
        s.get(&member, "/organizations/acme/nodes/db1").await.status,
        200
    );
    assert_eq!(
        s.put(&member, "/organizations/acme/nodes/db1", &json!({}))
            .await
            .status,
        200
    );
    // Every org response still carries the version header.
    let r = s.get(&member, "/organizations/acme/nodes/missing").await;
    assert!(r.header("x-ops-server-api-version").is_some());
}

#[tokio::test]
async fn environment_and_role_joins_and_principals() {
    let s = TestServer::start().await;
    let (admin, _) = org_with_users(&s).await;
    s.post(
        &admin,
        "/organizations/acme/environments",
        &json!({"name": "prod"}),
    )
    .await;
    s.post(
        &admin,
        "/organizations/acme/nodes",
        &json!({"name": "a", "chef_environment": "prod"}),
    )
    .await;
    s.post(&admin, "/organizations/acme/nodes", &json!({"name": "b"}))
        .await;
    let r = s
        .get(&admin, "/organizations/acme/environments/prod/nodes")
        .await;
    assert_eq!(r.body, json!({"a": s.url("/organizations/acme/nodes/a")}));
    assert_eq!(
        s.get(&admin, "/organizations/acme/environments/none/nodes")
            .await
            .status,
        404
    );

    s.post(
        &admin,
        "/organizations/acme/roles",
        &json!({"name": "web", "run_list": ["base"], "env_run_lists": {"prod": ["nginx"]}}),
    )
    .await;
    assert_eq!(
        s.get(&admin, "/organizations/acme/roles/web/environments")
            .await
            .body,
        json!(["_default", "prod"])
    );
    assert_eq!(
        s.get(&admin, "/organizations/acme/roles/web/environments/prod")
            .await
            .body,
        json!({"run_list": ["recipe[nginx]"]})
    );
    assert_eq!(
        s.get(
            &admin,
            "/organizations/acme/environments/_default/roles/web"
        )
        .await
        .body,
        json!({"run_list": ["recipe[base]"]})
    );

    // Principals need no signature.
    let r = s
        .raw(
            s.client()
                .get(s.url("/organizations/acme/principals/alice"))
                .header("X-Ops-Server-API-Version", "1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["principals"][0]["type"], "user");
    assert_eq!(r.body["principals"][0]["org_member"], true);
    let r = s
        .raw(
            s.client()
                .get(s.url("/organizations/acme/principals/acme-validator")),
        )
        .await;
    assert_eq!(r.body["type"], "client");
    let r = s
        .raw(
            s.client()
                .get(s.url("/organizations/acme/principals/ghost")),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"not_found": "principal", "error": "Cannot find principal ghost"})
    );
}

#[tokio::test]
async fn node_identifiers_and_disabled_required_recipe() {
    let s = TestServer::start().await;
    let (admin, _) = org_with_users(&s).await;
    s.post(&admin, "/organizations/acme/nodes", &json!({"name": "n1"}))
        .await;
    let r = s
        .raw(
            s.client()
                .get(s.url("/organizations/acme/nodes/n1/_identifiers")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], r.body["authz_id"]);
    let r = s
        .raw(
            s.client()
                .get(s.url("/organizations/acme/nodes/nope/_identifiers")),
        )
        .await;
    assert_eq!(r.body, json!({"error": ["No such 'nodes': 'nope'."]}));
    for method in ["GET", "PUT", "POST"] {
        let r = s
            .raw(s.client().request(
                method.parse().unwrap(),
                s.url("/organizations/acme/required_recipe"),
            ))
            .await;
        assert_eq!(r.status, 404, "{method} unsigned");
    }
    assert_eq!(
        s.get(&admin, "/organizations/acme/required_recipe")
            .await
            .status,
        404
    );
}

/// A 150,000-entry run list (1.5 MB, under the body limit), sent by the validator, is a
/// 400 at once; de-duplication used to be quadratic and held an async worker for minutes.
/// Run lists up to the cap (`limits.max_run_list_items`, 10,000) are kept, de-duplicated.
#[tokio::test]
async fn run_lists_are_capped_and_deduplicated_in_linear_time() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let huge: Vec<String> = (0..150_000).map(|i| format!("x{i}")).collect();
    let t = std::time::Instant::now();
    let r = s
        .post(
            &validator,
            "/organizations/acme/nodes",
            &json!({"name": "big", "run_list": huge}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": ["Field 'run_list' has a run list of 150000 entries, more than the 10000 allowed"]})
    );
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    let r = s.get(&s.superuser, "/organizations/acme/nodes/big").await;
    assert_eq!(r.status, 404);

    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/roles",
            &json!({"name": "web", "env_run_lists": {"prod": huge[..10_001]}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": ["Field 'env_run_lists' has a run list of 10001 entries, more than the 10000 allowed"]})
    );
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/environments/_default/cookbook_versions",
            &json!({"run_list": huge}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    // At the cap: every entry twice, kept once each in first-seen order.
    let doubled: Vec<&String> = huge[..5_000].iter().chain(&huge[..5_000]).collect();
    let r = s
        .post(
            &validator,
            "/organizations/acme/nodes",
            &json!({"name": "full", "run_list": doubled}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.get(&s.superuser, "/organizations/acme/nodes/full").await;
    let run_list = r.body["run_list"].as_array().unwrap();
    assert_eq!(run_list.len(), 5_000);
    assert_eq!(run_list[0], "recipe[x0]");
    assert_eq!(run_list[4_999], "recipe[x4999]");
}

//! Compliance API users, orgs and teams: one identity store with the Infra API, and the
//! permissions (site_admin, user_admin, org_admin, owners, team permissions) enforced.

mod common;
mod compliance_common;

use common::TestServer;
use compliance_common::{call, get, login, user_with};
use serde_json::json;

#[tokio::test]
async fn users_are_the_infra_users() {
    let s = TestServer::start().await;
    user_with(&s, "root", true, false, false).await;
    user_with(&s, "plain", false, false, false).await;
    let root = login(&s, "root").await;
    let plain = login(&s, "plain").await;

    let body = json!({"name": "Lee Doe", "login": "lee", "password": "l8dDnwr-0fgh"});
    let r = call(&s, Some(&plain), "POST", "/api/users", Some(&body)).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["error"], "forbidden");
    let r = call(&s, Some(&root), "POST", "/api/users", Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = call(&s, Some(&root), "POST", "/api/users", Some(&body)).await;
    assert_eq!(r.status, 409);
    for bad in [
        json!({"login": "Bad Name", "password": "long-enough"}),
        json!({"login": "x1", "password": "short"}),
        json!({"login": "x2"}),
        json!({"login": "x3", "password": "long-enough", "permissions": {"god": "true"}}),
        json!(["not", "an", "object"]),
    ] {
        let r = call(&s, Some(&root), "POST", "/api/users", Some(&bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }

    // The same record through the Infra API, and the password works for both logins.
    let r = s.get(&s.superuser, "/users/lee").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["display_name"], "Lee Doe");
    let r = s
        .post(
            &s.superuser,
            "/authenticate_user",
            &json!({"username": "lee", "password": "l8dDnwr-0fgh"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = get(&s, &plain, &format!("/api/users/{id}")).await;
    assert_eq!(r.body["login"], "lee");
    assert_eq!(r.body["permissions"]["site_admin"], "false");

    // Only a site admin grants permissions; users change themselves, not others.
    let grant = json!({"permissions": {"user_admin": "true"}});
    let r = call(&s, Some(&plain), "PATCH", "/api/users/plain", Some(&grant)).await;
    assert_eq!(r.status, 403);
    let r = call(
        &s,
        Some(&plain),
        "PATCH",
        "/api/users/lee",
        Some(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = call(&s, Some(&root), "PATCH", "/api/users/lee", Some(&grant)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&s, &root, "/api/users/lee").await.body["permissions"]["user_admin"],
        "true"
    );
    let r = call(
        &s,
        Some(&plain),
        "PATCH",
        "/api/users/plain",
        Some(&json!({"name": "Plain P"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&s, &plain, "/api/users/plain").await.body["name"],
        "Plain P"
    );

    assert_eq!(
        call(&s, Some(&plain), "DELETE", "/api/users/lee", None)
            .await
            .status,
        403
    );
    assert_eq!(
        call(&s, Some(&root), "DELETE", "/api/users/pivotal", None)
            .await
            .status,
        403
    );
    assert_eq!(
        call(&s, Some(&root), "DELETE", "/api/users/lee", None)
            .await
            .status,
        200
    );
    assert_eq!(s.get(&s.superuser, "/users/lee").await.status, 404);
    assert_eq!(get(&s, &root, "/api/users/lee").await.status, 404);
}

#[tokio::test]
async fn orgs_are_the_infra_orgs_and_owners_are_admins() {
    let s = TestServer::start().await;
    user_with(&s, "boss", false, true, false).await;
    user_with(&s, "plain", false, false, false).await;
    let boss = login(&s, "boss").await;
    let plain = login(&s, "plain").await;
    let body = json!({"name": "ACME Corporation", "login": "acme"});
    assert_eq!(
        call(&s, Some(&plain), "POST", "/api/orgs", Some(&body))
            .await
            .status,
        403
    );
    let r = call(&s, Some(&boss), "POST", "/api/orgs", Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["login"], "acme");
    assert_eq!(r.body["name"], "ACME Corporation");
    assert_eq!(
        call(&s, Some(&boss), "POST", "/api/orgs", Some(&body))
            .await
            .status,
        409
    );
    let bad = json!({"name": "Bad", "login": "Not Valid!"});
    assert_eq!(
        call(&s, Some(&boss), "POST", "/api/orgs", Some(&bad))
            .await
            .status,
        400
    );

    // The Infra org exists with its groups; the creator is in admins (= owners).
    let r = s.get(&s.superuser, "/organizations/acme").await;
    assert_eq!(r.body["full_name"], "ACME Corporation");
    let r = s
        .get(&s.superuser, "/organizations/acme/groups/admins")
        .await;
    assert!(
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "boss"),
        "{}",
        r.text
    );

    assert_eq!(get(&s, &plain, "/api/orgs").await.body, json!([]));
    assert_eq!(get(&s, &plain, "/api/orgs/acme").await.status, 403);
    let r = call(
        &s,
        Some(&boss),
        "PATCH",
        "/api/orgs/acme",
        Some(&json!({"name": "ACME2"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&s, &boss, "/api/orgs/acme").await.body["name"], "ACME2");

    // Owners team: the admins group; adding plain there makes plain an org admin.
    let r = get(&s, &boss, "/api/orgs/acme/teams").await;
    assert_eq!(r.body[0]["id"], "owners");
    let r = call(
        &s,
        Some(&boss),
        "POST",
        "/api/orgs/acme/teams/owners/members",
        Some(&json!(["plain"])),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .get(&s.superuser, "/organizations/acme/groups/admins")
        .await;
    assert!(r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u == "plain"));
    assert_eq!(get(&s, &plain, "/api/orgs").await.body[0]["login"], "acme");
    assert_eq!(
        call(
            &s,
            Some(&boss),
            "DELETE",
            "/api/orgs/acme/teams/owners",
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        call(&s, Some(&boss), "DELETE", "/api/orgs/acme", None)
            .await
            .status,
        200
    );
    assert_eq!(s.get(&s.superuser, "/organizations/acme").await.status, 404);
}

#[tokio::test]
async fn teams_members_and_permissions() {
    let s = TestServer::start().await;
    user_with(&s, "owner", false, true, false).await;
    user_with(&s, "bob", false, false, false).await;
    let owner = login(&s, "owner").await;
    let bob = login(&s, "bob").await;
    call(
        &s,
        Some(&owner),
        "POST",
        "/api/orgs",
        Some(&json!({"name": "Acme", "login": "acme"})),
    )
    .await;

    let team = json!({"name": "manageteam", "permissions": {"manage": "true"}});
    assert_eq!(
        call(&s, Some(&bob), "POST", "/api/orgs/acme/teams", Some(&team))
            .await
            .status,
        403
    );
    let r = call(
        &s,
        Some(&owner),
        "POST",
        "/api/orgs/acme/teams",
        Some(&team),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["permissions"], json!({"manage": "true"}));
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        call(
            &s,
            Some(&owner),
            "POST",
            "/api/orgs/acme/teams",
            Some(&team)
        )
        .await
        .status,
        409
    );
    for bad in [
        json!({"name": "x", "permissions": {"fly": "true"}}),
        json!({"name": "x", "permissions": {"scan": "maybe"}}),
        json!({"name": ""}),
        json!({"name": "owners"}),
    ] {
        let r = call(&s, Some(&owner), "POST", "/api/orgs/acme/teams", Some(&bad)).await;
        assert!(matches!(r.status, 400 | 409), "{bad}: {}", r.status);
    }

    // The spec's `{["bob"]}` body, as written.
    let path = format!("/api/orgs/acme/teams/{id}/members");
    let r = s
        .raw(
            s.client()
                .post(s.url(&path))
                .header("authorization", format!("Bearer {owner}"))
                .header("content-type", "application/json")
                .body(r#"{["bob"]}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bob_id = s.state.store.user_by_name("bob").await.unwrap().unwrap().id;
    let r = get(&s, &bob, &path).await;
    assert_eq!(r.body["members"], json!([bob_id]));
    assert_eq!(r.body["name"], "manageteam");
    // Joining a team made bob a member of the org.
    assert_eq!(
        s.get(&s.superuser, "/organizations/acme/users/bob")
            .await
            .status,
        200
    );

    let r = call(
        &s,
        Some(&owner),
        "PATCH",
        &format!("/api/orgs/acme/teams/{id}"),
        Some(&json!({"name": "audit", "permissions": {"scan": "true"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = get(&s, &bob, &format!("/api/orgs/acme/teams/{id}")).await;
    assert_eq!(r.body["name"], "audit");
    assert_eq!(r.body["permissions"], json!({"scan": "true"}));
    let r = call(
        &s,
        Some(&owner),
        "PATCH",
        "/api/orgs/acme/teams/owners",
        Some(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(r.status, 400);

    let member = format!("{path}/bob");
    assert_eq!(
        call(&s, Some(&bob), "DELETE", &member, None).await.status,
        403
    );
    assert_eq!(
        call(&s, Some(&owner), "DELETE", &member, None).await.status,
        200
    );
    assert_eq!(
        call(&s, Some(&owner), "DELETE", &member, None).await.status,
        404
    );
    let r = call(
        &s,
        Some(&owner),
        "DELETE",
        "/api/orgs/acme/teams/owners/members/owner",
        None,
    )
    .await;
    assert_eq!(r.status, 409, "the last owner stays");
    assert_eq!(
        call(
            &s,
            Some(&owner),
            "DELETE",
            &format!("/api/orgs/acme/teams/{id}"),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(&s, &owner, &format!("/api/orgs/acme/teams/{id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn server_config_is_kept_and_checked() {
    let s = TestServer::start().await;
    user_with(&s, "root", true, false, false).await;
    user_with(&s, "plain", false, false, false).await;
    let root = login(&s, "root").await;
    let plain = login(&s, "plain").await;
    let r = get(&s, &plain, "/api/server/config").await;
    assert_eq!(r.body["scanTimeout"], 1800);
    assert_eq!(r.body["licensedNodeCount"], 25);
    let change = json!({"scanTimeout": 600});
    assert_eq!(
        call(
            &s,
            Some(&plain),
            "PATCH",
            "/api/server/config",
            Some(&change)
        )
        .await
        .status,
        403
    );
    assert_eq!(
        call(
            &s,
            Some(&root),
            "PATCH",
            "/api/server/config",
            Some(&change)
        )
        .await
        .status,
        200
    );
    for bad in [
        json!({"scanTimeout": -1}),
        json!({"port": "x"}),
        json!({"nope": 1}),
    ] {
        let r = call(&s, Some(&root), "PATCH", "/api/server/config", Some(&bad)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = get(&s, &plain, "/api/server/config").await;
    assert_eq!(r.body["scanTimeout"], 600);
    assert_eq!(r.body["detectTimeout"], 30);
}

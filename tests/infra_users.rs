//! Global users (`/users`, `/users/NAME`, `/users/NAME/organizations`, `/authenticate_user`).

mod common;

use common::{Actor, TestServer};
use serde_json::json;

fn user_body(name: &str) -> serde_json::Value {
    json!({"username": name, "email": format!("{name}@example.com"), "display_name": name.to_uppercase(), "first_name": "F", "password": "abcdefgh"})
}

#[tokio::test]
async fn v0_create_generates_key_and_get_shows_public_key() {
    let s = TestServer::start().await;
    let r = s
        .post_v(&s.superuser, "/users", &user_body("bob"), "0")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body.as_object().unwrap().len(),
        2,
        "exactly uri and private_key: {}",
        r.text
    );
    assert_eq!(r.body["uri"], s.url("/users/bob"));
    let bob = Actor::new("bob", r.body["private_key"].as_str().unwrap());
    let r = s.get_v(&bob, "/users/bob", "0").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["username"], "bob");
    assert_eq!(r.body["email"], "bob@example.com");
    assert_eq!(r.body["display_name"], "BOB");
    assert_eq!(r.body["first_name"], "F");
    assert!(r.body["public_key"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY"));
    assert!(r.body.get("password").is_none());
    let r = s.get_v(&bob, "/users/bob", "1").await;
    assert!(r.body.get("public_key").is_none());
}

#[tokio::test]
async fn v1_create_key_semantics() {
    let s = TestServer::start().await;
    let r = s.post(&s.superuser, "/users", &user_body("nokey")).await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("chef_key").is_none() && r.body.get("private_key").is_none());

    let mut b = user_body("withkey");
    b["create_key"] = json!(true);
    let r = s.post(&s.superuser, "/users", &b).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let k = &r.body["chef_key"];
    assert_eq!(k["name"], "default");
    assert_eq!(k["expiration_date"], "infinity");
    assert_eq!(k["uri"], s.url("/users/withkey/keys/default"));
    let user = Actor::new("withkey", k["private_key"].as_str().unwrap());
    assert_eq!(s.get(&user, "/users/withkey").await.status, 200);

    let mut both = user_body("both");
    both["create_key"] = json!(true);
    both["public_key"] = json!(k["public_key"]);
    assert_eq!(s.post(&s.superuser, "/users", &both).await.status, 400);
    let mut pk = user_body("pk");
    pk["private_key"] = json!(true);
    assert_eq!(s.post(&s.superuser, "/users", &pk).await.status, 400);
}

#[tokio::test]
async fn create_validation_and_conflicts() {
    let s = TestServer::start().await;
    let cases = [
        (
            json!({"email": "a@b.co", "display_name": "x", "password": "abcdefgh"}),
            "Field 'username' missing",
        ),
        (
            json!({"username": "Bad", "email": "a@b.co", "display_name": "x", "password": "abcdefgh"}),
            "",
        ),
        (
            json!({"username": "u1", "email": "a@b.co", "password": "abcdefgh"}),
            "Field 'display_name' missing",
        ),
        (
            json!({"username": "u1", "display_name": "x", "password": "abcdefgh"}),
            "Field 'email' missing",
        ),
        (
            json!({"username": "u1", "email": "nope", "display_name": "x", "password": "abcdefgh"}),
            "Field 'email' invalid",
        ),
        (
            json!({"username": "u1", "email": "a@b.co", "display_name": "x", "password": "abc"}),
            "Password must have at least 6 characters",
        ),
        (
            json!({"username": "u1", "email": "a@b.co", "display_name": "x"}),
            "Field 'password' missing",
        ),
    ];
    for (body, msg) in cases {
        let r = s.post(&s.superuser, "/users", &body).await;
        assert_eq!(r.status, 400, "{body}");
        if !msg.is_empty() {
            assert_eq!(r.body, json!({"error": [msg]}), "{body}");
        }
    }
    assert_eq!(
        s.post(&s.superuser, "/users", &user_body("dup"))
            .await
            .status,
        201
    );
    let r = s.post(&s.superuser, "/users", &user_body("dup")).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error": ["Username or email address already in use."]})
    );
    let mut same_email = user_body("other");
    same_email["email"] = json!("DUP@example.com");
    assert_eq!(
        s.post(&s.superuser, "/users", &same_email).await.status,
        409
    );
}

#[tokio::test]
async fn who_may_see_and_change_users() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let alice = s.create_user("alice").await;
    let bob = s.create_user("bob").await;
    let carol = s.create_user("carol").await;
    // Strangers cannot read each other; org-mates can.
    assert_eq!(s.get(&alice, "/users/bob").await.status, 403);
    s.associate("acme", "alice").await;
    s.associate("acme", "bob").await;
    assert_eq!(s.get(&alice, "/users/bob").await.status, 200);
    assert_eq!(s.get(&carol, "/users/bob").await.status, 403);
    // Only the user (or the superuser) changes or deletes it.
    let r = s
        .put(&alice, "/users/bob", &json!({"display_name": "hacked"}))
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .put(
            &bob,
            "/users/bob",
            &json!({"username": "bob", "display_name": "Bobby", "email": "bob@example.com"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        s.get(&bob, "/users/bob").await.body["display_name"],
        "Bobby"
    );
    assert_eq!(s.get(&bob, "/users").await.status, 403);
    let r = s.get(&s.superuser, "/users").await;
    assert_eq!(r.body["bob"], s.url("/users/bob"));
    assert_eq!(r.body["pivotal"], s.url("/users/pivotal"));
    let r = s.get(&s.superuser, "/users?email=bob@example.com").await;
    assert_eq!(r.body.as_object().unwrap().len(), 1);
    let r = s.get(&s.superuser, "/users/nobody").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"error": "Could not find user nobody"}));

    let r = s.get(&alice, "/users/alice/organizations").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["organization"]["name"], "acme");

    let r = s.delete(&s.superuser, "/users/carol").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], "carol");
    assert_eq!(s.get(&carol, "/users/carol").await.status, 401);
}

#[tokio::test]
async fn rename_and_v0_key_regeneration() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let r = s
        .put_v(
            &bob,
            "/users/bob",
            &json!({"username": "robert", "display_name": "Robert", "email": "bob@example.com"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location").unwrap(), s.url("/users/robert"));
    let robert = Actor {
        name: "robert".into(),
        ..bob
    };
    let r = s
        .put_v(
            &robert,
            "/users/robert",
            &json!({"username": "robert", "display_name": "Robert", "email": "bob@example.com", "private_key": true}),
            "0",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = Actor::new("robert", r.body["private_key"].as_str().unwrap());
    assert_eq!(s.get(&fresh, "/users/robert").await.status, 200);
    assert_eq!(
        s.get(&robert, "/users/robert").await.status,
        401,
        "old key replaced"
    );
    let r = s
        .put(&fresh, "/users/robert", &json!({"public_key": "x"}))
        .await;
    assert_eq!(r.status, 400, "v1 refuses key fields");
}

#[tokio::test]
async fn authenticate_user_checks_passwords() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &s.superuser,
            "/authenticate_user",
            &json!({"username": "bob", "password": "secret-password"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "linked");
    assert_eq!(r.body["user"]["username"], "bob");
    let r = s
        .post(
            &s.superuser,
            "/authenticate_user",
            &json!({"username": "bob", "password": "wrong-one"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": ["Failed to authenticate: Username and password incorrect"]})
    );
    let r = s
        .post(
            &s.superuser,
            "/authenticate_user",
            &json!({"username": "bob"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = s
        .post(
            &bob,
            "/authenticate_user",
            &json!({"username": "bob", "password": "secret-password"}),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn authenticate_user_validates_the_body_before_the_signature() {
    let s = TestServer::start().await;
    let nobody = Actor::new(
        "nobody",
        &brigade::auth::keygen::generate().await.unwrap().private_pem,
    );
    let r = s
        .signed(
            &nobody,
            "POST",
            "/authenticate_user",
            None,
            brigade::auth::signed_header::SignVersion::V1_0,
            "1",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": ["invalid user authentication request"]})
    );
    let r = s
        .post(
            &nobody,
            "/authenticate_user",
            &json!({"username": "bob", "password": "secret-password"}),
        )
        .await;
    assert_eq!(
        r.status, 401,
        "a well-formed body still needs a known signer"
    );
}

//! `/users/NAME/keys[/KEY]`: named keys with expiration, used for authentication.

mod common;

use common::{Actor, TestServer};
use serde_json::json;

#[tokio::test]
async fn add_list_show_use_and_delete_keys() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &bob,
            "/users/bob/keys",
            &json!({"name": "laptop", "create_key": true, "expiration_date": "infinity"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["uri"], s.url("/users/bob/keys/laptop"));
    let laptop = Actor::new("bob", r.body["private_key"].as_str().unwrap());
    assert_eq!(
        s.get(&laptop, "/users/bob").await.status,
        200,
        "new key authenticates"
    );

    let r = s.get(&bob, "/users/bob/keys").await;
    assert_eq!(r.status, 200);
    let names: Vec<_> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["default", "laptop"]);
    assert_eq!(r.body[0]["expired"], false);
    assert_eq!(r.body[1]["uri"], s.url("/users/bob/keys/laptop"));

    let r = s.get(&bob, "/users/bob/keys/laptop").await;
    assert_eq!(r.body["expiration_date"], "infinity");
    assert!(r.body["public_key"]
        .as_str()
        .unwrap()
        .contains("PUBLIC KEY"));

    let r = s
        .post(
            &bob,
            "/users/bob/keys",
            &json!({"name": "laptop", "create_key": true, "expiration_date": "infinity"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error": "a key with the name 'laptop' already exists for this actor."})
    );

    // The key that signed a request cannot delete itself.
    let r = s.delete(&laptop, "/users/bob/keys/laptop").await;
    assert_eq!(r.status, 403);
    let r = s.delete(&bob, "/users/bob/keys/laptop").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.get(&laptop, "/users/bob").await.status,
        401,
        "deleted key stops working at once"
    );
    let r = s.get(&bob, "/users/bob/keys/laptop").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": "There is no key named laptop associated with bob."})
    );
}

#[tokio::test]
async fn expired_keys_are_listed_as_expired_and_refused() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &bob,
            "/users/bob/keys",
            &json!({"name": "old", "create_key": true, "expiration_date": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let old = Actor::new("bob", r.body["private_key"].as_str().unwrap());
    assert_eq!(s.get(&old, "/users/bob").await.status, 200);
    let r = s
        .put(
            &bob,
            "/users/bob/keys/old",
            &json!({"expiration_date": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["expiration_date"], "2000-01-01T00:00:00Z");
    let r = s.get(&bob, "/users/bob/keys").await;
    assert_eq!(r.body[1]["expired"], true);
    assert_eq!(s.get(&old, "/users/bob").await.status, 401);
}

#[tokio::test]
async fn key_validation() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let cases = [
        (json!({"name": "k", "expiration_date": "infinity"}), 400),
        (
            json!({"name": "k", "create_key": true, "public_key": "x", "expiration_date": "infinity"}),
            400,
        ),
        (
            json!({"name": "k", "public_key": "not a key", "expiration_date": "infinity"}),
            400,
        ),
        (
            json!({"name": "k", "create_key": true, "expiration_date": "soon"}),
            400,
        ),
        (json!({"name": "k", "create_key": true}), 400),
        (
            json!({"create_key": true, "expiration_date": "infinity"}),
            400,
        ),
        (
            json!({"name": "bad name", "create_key": true, "expiration_date": "infinity"}),
            400,
        ),
    ];
    for (body, status) in cases {
        let r = s.post(&bob, "/users/bob/keys", &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    let r = s.put(&bob, "/users/bob/keys/default", &json!({})).await;
    assert_eq!(r.status, 403, "signing key");
    let other = s
        .post(
            &bob,
            "/users/bob/keys",
            &json!({"name": "k2", "create_key": true, "expiration_date": "infinity"}),
        )
        .await;
    assert_eq!(other.status, 201);
    let r = s.put(&bob, "/users/bob/keys/k2", &json!({})).await;
    assert_eq!(r.status, 400);
    let r = s
        .put(&bob, "/users/bob/keys/k2", &json!({"name": "renamed"}))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.header("location").unwrap(),
        s.url("/users/bob/keys/renamed")
    );

    let alice = s.create_user("alice").await;
    assert_eq!(s.get(&alice, "/users/bob/keys").await.status, 403);
    assert_eq!(
        s.post(
            &alice,
            "/users/bob/keys",
            &json!({"name": "x", "create_key": true, "expiration_date": "infinity"})
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn key_update_echoes_the_request() {
    let s = TestServer::start().await;
    let bob = s.create_user("bob").await;
    let r = s
        .post(
            &bob,
            "/users/bob/keys",
            &json!({"name": "alt", "create_key": true, "expiration_date": "2100-12-31T23:59:59Z"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = s
        .put(&bob, "/users/bob/keys/alt", &json!({"name": "alt"}))
        .await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"name": "alt"})));
    assert!(r.header("location").is_none());
    let r = s
        .put(
            &bob,
            "/users/bob/keys/alt",
            &json!({"expiration_date": "2049-12-24T21:00:00Z"}),
        )
        .await;
    assert_eq!(r.body, json!({"expiration_date": "2049-12-24T21:00:00Z"}));
    let r = s
        .put(&bob, "/users/bob/keys/alt", &json!({"create_key": true}))
        .await;
    assert_eq!(r.status, 200);
    let mut keys: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["private_key", "public_key"]);
    let r = s
        .put(&bob, "/users/bob/keys/alt", &json!({"name": "default"}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error": "a key with the name 'default' already exists for this actor."})
    );
}

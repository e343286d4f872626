//! Data bags and items: raw and wrapped items, reply shapes, messages, bag ACLs.

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn bag_and_item_lifecycle() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let u = s.create_user("alice").await;
    s.associate("acme", "alice").await;
    let base = "/organizations/acme/data";

    let r = s.post(&u, base, &json!({"name": "secrets"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"uri": s.url("/organizations/acme/data/secrets")})
    );
    let r = s.post(&u, base, &json!({"name": "secrets"})).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (409, json!({"error": ["Data bag already exists"]}))
    );
    assert_eq!(
        s.post(&u, base, &json!({"name": "bad name"})).await.status,
        400
    );
    assert_eq!(
        s.get(&u, base).await.body,
        json!({"secrets": s.url("/organizations/acme/data/secrets")})
    );

    let item = json!({"id": "db", "password": {"encrypted_data": "xyz", "iv": "abc", "version": 1, "cipher": "aes-256-cbc"}});
    let r = s.post(&u, "/organizations/acme/data/secrets", &item).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["chef_type"], "data_bag_item");
    assert_eq!(r.body["data_bag"], "secrets");
    assert_eq!(r.body["password"]["iv"], "abc");
    let r = s.post(&u, "/organizations/acme/data/secrets", &item).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error": ["Data Bag Item 'db' already exists in Data Bag 'secrets'."]})
    );

    // A wrapped item (as older knife sends) is stored unwrapped.
    let wrapped = json!({"name": "data_bag_item_secrets_web", "json_class": "Chef::DataBagItem", "chef_type": "data_bag_item", "data_bag": "secrets", "raw_data": {"id": "web", "k": "v"}});
    assert_eq!(
        s.post(&u, "/organizations/acme/data/secrets", &wrapped)
            .await
            .status,
        201
    );
    assert_eq!(
        s.get(&u, "/organizations/acme/data/secrets/web").await.body,
        json!({"id": "web", "k": "v"})
    );
    assert_eq!(
        s.get(&u, "/organizations/acme/data/secrets/db").await.body,
        item
    );

    let r = s
        .put(
            &u,
            "/organizations/acme/data/secrets/web",
            &json!({"k": "v2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": "web", "k": "v2", "chef_type": "data_bag_item", "data_bag": "secrets"})
    );
    let r = s
        .put(
            &u,
            "/organizations/acme/data/secrets/web",
            &json!({"id": "other"}),
        )
        .await;
    assert_eq!(r.body, json!({"error": ["DataBagItem name mismatch."]}));

    let r = s.get(&u, "/organizations/acme/data/secrets").await;
    assert_eq!(r.body.as_object().unwrap().len(), 2);
    let r = s.delete(&u, "/organizations/acme/data/secrets/web").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["raw_data"], json!({"id": "web", "k": "v2"}));
    assert_eq!(r.body["name"], "data_bag_item_secrets_web");
    let r = s.delete(&u, "/organizations/acme/data/secrets/web").await;
    assert_eq!(
        r.body,
        json!({"error": ["Cannot load data bag secrets item web"]})
    );
    let r = s.get(&u, "/organizations/acme/data/secrets/web").await;
    assert_eq!(
        r.body,
        json!({"error": ["Cannot load data bag item web for data bag secrets"]})
    );

    let r = s.delete(&u, "/organizations/acme/data/secrets").await;
    assert_eq!(
        r.body,
        json!({"name": "secrets", "json_class": "Chef::DataBag", "chef_type": "data_bag"})
    );
    let r = s.get(&u, "/organizations/acme/data/secrets/db").await;
    assert_eq!(r.status, 404, "items go with their bag");
    let r = s.post(&u, "/organizations/acme/data/secrets", &item).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": ["No data bag 'secrets' could be found. Please create this data bag before adding items to it."]})
    );
}

#[tokio::test]
async fn item_validation() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = s.superuser.clone();
    assert_eq!(
        s.post(&p, "/organizations/acme/data", &json!({"name": "b"}))
            .await
            .status,
        201
    );
    for bad in [json!({"x": 1}), json!({"id": "a b"}), json!({"id": 5})] {
        let r = s.post(&p, "/organizations/acme/data/b", &bad).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        s.get(&p, "/organizations/acme/data/b").await.body,
        json!({})
    );
}

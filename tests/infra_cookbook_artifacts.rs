//! Cookbook artifacts (Policyfile cookbooks): immutable versions by identifier.

mod common;

use common::TestServer;
use serde_json::{json, Value};

fn artifact(name: &str, id: &str) -> Value {
    json!({
        "name": name, "identifier": id, "version": "1.0.0", "chef_type": "cookbook_version",
        "json_class": "Chef::CookbookVersion", "frozen?": false, "recipes": [],
        "metadata": {"name": name, "version": "1.0.0", "dependencies": {}}
    })
}

#[tokio::test]
async fn artifacts_are_created_once_listed_and_deleted() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let id = "1".repeat(40);
    let url = format!("/organizations/acme/cookbook_artifacts/demo/{id}");
    let r = s.put(su, &url, &artifact("demo", &id)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.put(su, &url, &artifact("demo", &id)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, json!({"error": "Cookbook artifact already exists"}));

    let r = s.get(su, &url).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("json_class").is_none());
    assert_eq!(r.body["identifier"], id.as_str());
    let base = s.url("/organizations/acme/cookbook_artifacts/demo");
    let listing = json!({"demo": {"url": base, "versions": [{"url": format!("{base}/{id}"), "identifier": id}]}});
    assert_eq!(
        s.get(su, "/organizations/acme/cookbook_artifacts")
            .await
            .body,
        listing
    );
    assert_eq!(
        s.get(su, "/organizations/acme/cookbook_artifacts/demo")
            .await
            .body,
        listing
    );
    assert_eq!(
        s.get(su, "/organizations/acme/cookbook_artifacts/demo/_acl")
            .await
            .status,
        200
    );

    assert_eq!(s.delete(su, &url).await.status, 200);
    assert_eq!(s.get(su, &url).await.status, 404);
    let r = s
        .get(su, "/organizations/acme/cookbook_artifacts/demo")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"error": ["not_found"]}));
}

#[tokio::test]
async fn artifact_documents_are_validated() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    let su = &s.superuser;
    let url = "/organizations/acme/cookbook_artifacts/demo/abc";
    let r = s.put(su, url, &artifact("other", "abc")).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["Field 'name' invalid : demo does not match other"]})
    );
    let r = s.put(su, url, &artifact("demo", "xyz")).await;
    assert_eq!(
        r.body,
        json!({"error": ["Field 'identifier' invalid : abc does not match xyz"]})
    );
    let mut with_file = artifact("demo", "abc");
    with_file["recipes"] = json!([{"name": "default.rb", "path": "recipes/default.rb",
        "checksum": "d41d8cd98f00b204e9800998ecf8427e", "specificity": "default"}]);
    let r = s.put(su, url, &with_file).await;
    assert_eq!(r.status, 400, "no checksum can have been uploaded");
    assert_eq!(
        r.body,
        json!({"error": ["Manifest has a checksum that hasn't been uploaded."]})
    );
    // Validators cannot create artifacts.
    assert_eq!(
        s.put(&validator, url, &artifact("demo", "abc"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn artifact_files_must_be_uploaded_and_get_urls() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let id = "2".repeat(40);
    let url = format!("/organizations/acme/cookbook_artifacts/demo/{id}");
    let content = b"log 'hi'".as_slice();
    let mut doc = artifact("demo", &id);
    doc["recipes"] = json!([{"name": "default.rb", "path": "recipes/default.rb",
        "checksum": common::md5_hex(content), "specificity": "default"}]);
    let r = s.put(su, &url, &doc).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["Manifest has a checksum that hasn't been uploaded."]})
    );
    s.upload_files(su, "acme", &[content]).await;
    assert_eq!(s.put(su, &url, &doc).await.status, 201);

    let r = s.get_v(su, &url, "2").await;
    let file = &r.body["all_files"][0];
    assert_eq!(file["name"], "recipes/default.rb");
    let file_url = file["url"].as_str().unwrap().to_string();
    let got = s.client().get(&file_url).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), content);
    let r = s.get_v(su, &url, "0").await;
    assert_eq!(r.body["recipes"][0]["name"], "default.rb");

    assert_eq!(s.delete(su, &url).await.status, 200);
    assert_eq!(
        s.client().get(&file_url).send().await.unwrap().status(),
        404
    );
}

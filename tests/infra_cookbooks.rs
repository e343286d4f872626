//! Sandboxes, the file store, cookbook versions, listings, universe and environment
//! cookbook views, over signed HTTP.

mod common;

use common::{md5_hex, Actor, TestServer};
use serde_json::{json, Value};

async fn upload(s: &TestServer, who: &Actor, files: &[&[u8]]) -> Vec<String> {
    s.upload_files(who, "acme", files).await
}

fn version_doc(name: &str, version: &str, recipe_sum: Option<&str>, deps: Value) -> Value {
    let recipes = match recipe_sum {
        Some(sum) => {
            json!([{"name": "default.rb", "path": "recipes/default.rb", "checksum": sum, "specificity": "default"}])
        }
        None => json!([]),
    };
    json!({
        "name": format!("{name}-{version}"), "cookbook_name": name, "version": version,
        "json_class": "Chef::CookbookVersion", "chef_type": "cookbook_version", "frozen?": false,
        "recipes": recipes,
        "metadata": {"name": name, "version": version, "dependencies": deps, "description": "d"}
    })
}

#[tokio::test]
async fn sandbox_upload_commit_and_reuse() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let sb = "/organizations/acme/sandboxes";
    let r = s.post(su, sb, &json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, json!({"error": ["Field 'checksums' missing"]}));
    for bad in [
        json!({"checksums": {}}),
        json!({"checksums": {md5_hex(b"x"): "foo"}}),
    ] {
        let r = s.post(su, sb, &bad).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body, json!({"error": ["Bad checksums!"]}));
    }

    let data = b"file one".as_slice();
    let sum = md5_hex(data);
    let r = s
        .post(su, sb, &json!({"checksums": {sum.clone(): null}}))
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["sandbox_id"].as_str().unwrap().to_string();
    let url = r.body["checksums"][&sum]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let commit = format!("{sb}/{id}");
    let r = s.put(su, &commit, &json!({"is_completed": true})).await;
    assert_eq!(r.status, 503);
    assert_eq!(
        r.body["error"][0],
        format!(
            "Cannot update sandbox {id}: the following checksums have not been uploaded: {sum}"
        )
    );
    // Wrong content for the checksum, then a wrong Content-MD5: refused, nothing stored.
    let put = s.client().put(&url).body("other").send().await.unwrap();
    assert_eq!(put.status(), 400);
    let put = s
        .client()
        .put(&url)
        .header("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 400);
    // A tampered URL signature is not a credential.
    let forged = url.replace("signature=", "signature=00");
    let put = s
        .client()
        .put(&forged)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);
    let put = s
        .client()
        .put(&url)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let r = s.put(su, &commit, &json!({"is_completed": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["guid"], id.as_str());
    assert_eq!(r.body["checksums"], json!([sum]));
    assert_eq!(r.body["is_completed"], true);
    assert_eq!(
        s.put(su, &commit, &json!({"is_completed": true}))
            .await
            .status,
        404
    );

    let r = s
        .post(su, sb, &json!({"checksums": {sum.clone(): null}}))
        .await;
    assert_eq!(r.body["checksums"][&sum], json!({"needs_upload": false}));
    let r = s.put(su, &commit, &json!({"is_completed": false})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn cookbook_versions_round_trip_with_files() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let content = b"package 'nginx'".as_slice();
    let url = "/organizations/acme/cookbooks/web/1.0.0";

    let never = md5_hex(b"never uploaded");
    let r = s
        .put(
            su,
            url,
            &version_doc("web", "1.0.0", Some(&never), json!({})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["Manifest has a checksum that hasn't been uploaded."]})
    );
    assert_eq!(s.get(su, url).await.status, 404);

    let sum = upload(&s, su, &[content]).await.remove(0);
    let doc = version_doc("web", "1.0.0", Some(&sum), json!({"base": ">= 0.1"}));
    let r = s.put(su, url, &doc).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body, doc);

    let r = s.get(su, url).await;
    assert_eq!(r.status, 200);
    let file = &r.body["recipes"][0];
    assert_eq!(file["name"], "default.rb");
    assert_eq!(
        r.body["metadata"]["dependencies"],
        json!({"base": ">= 0.1"})
    );
    let file_url = file["url"].as_str().unwrap().to_string();
    let got = s.client().get(&file_url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), content);

    let r = s.get_v(su, url, "2").await;
    assert!(r.body.get("recipes").is_none());
    assert_eq!(r.body["all_files"][0]["name"], "recipes/default.rb");
    let r = s.get(su, "/organizations/acme/cookbooks/web/_latest").await;
    assert_eq!(r.body["version"], "1.0.0");

    // A v2 upload with segment keys is refused; with all_files it is read back as segments.
    let v2 = json!({
        "name": "web-2.0.0", "cookbook_name": "web", "version": "2.0.0",
        "all_files": [{"name": "recipes/server.rb", "path": "recipes/server.rb", "checksum": sum, "specificity": "default"}],
        "metadata": {"version": "2.0.0"}
    });
    let v2_url = "/organizations/acme/cookbooks/web/2.0.0";
    let r = s
        .put_v(
            su,
            v2_url,
            &version_doc("web", "2.0.0", None, json!({})),
            "2",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": ["Invalid key recipes in request body"]})
    );
    assert_eq!(s.put_v(su, v2_url, &v2, "2").await.status, 201);
    let r = s.get(su, v2_url).await;
    assert_eq!(r.body["recipes"][0]["name"], "server.rb");

    // Freezing: a frozen version needs ?force=true and stays frozen.
    let mut frozen = doc.clone();
    frozen["frozen?"] = json!(true);
    assert_eq!(s.put(su, url, &frozen).await.status, 200);
    let r = s.put(su, url, &doc).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error": ["The cookbook web at version 1.0.0 is frozen. Use the 'force' option to override."]})
    );
    let r = s.put(su, &format!("{url}?force=true"), &doc).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["frozen?"], true);

    // Listings.
    let base = s.url("/organizations/acme/cookbooks/web");
    let r = s.get(su, "/organizations/acme/cookbooks").await;
    assert_eq!(
        r.body,
        json!({"web": {"url": base, "versions": [{"url": format!("{base}/2.0.0"), "version": "2.0.0"}]}})
    );
    let r = s
        .get(su, "/organizations/acme/cookbooks?num_versions=all")
        .await;
    assert_eq!(r.body["web"]["versions"].as_array().unwrap().len(), 2);
    let r = s
        .get(su, "/organizations/acme/cookbooks?num_versions=-1")
        .await;
    assert_eq!(r.status, 400);
    let r = s.get(su, "/organizations/acme/cookbooks/_latest").await;
    assert_eq!(r.body, json!({"web": format!("{base}/2.0.0")}));
    let r = s.get(su, "/organizations/acme/cookbooks/_recipes").await;
    assert_eq!(r.body, json!(["web::server"]));
    let r = s.get(su, "/organizations/acme/cookbooks/web").await;
    assert_eq!(r.body["web"]["versions"][1]["version"], "1.0.0");
    let r = s.get(su, "/organizations/acme/universe").await;
    assert_eq!(
        r.body["web"]["1.0.0"],
        json!({"location_path": format!("{base}/1.0.0"), "location_type": "chef_server", "dependencies": {"base": ">= 0.1"}})
    );

    // Deleting both versions removes the cookbook and makes the files unreachable.
    assert_eq!(s.delete(su, v2_url).await.status, 200);
    let r = s.delete(su, url).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["recipes"][0]["name"], "default.rb");
    assert_eq!(
        s.get(su, "/organizations/acme/cookbooks/web").await.status,
        404
    );
    assert_eq!(
        s.client().get(&file_url).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        s.get(su, "/organizations/acme/cookbooks").await.body,
        json!({})
    );
}

#[tokio::test]
async fn invalid_uploads_and_permissions() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let r = s
        .put(
            su,
            "/organizations/acme/cookbooks/first@second/1.2.3",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"][0]
        .as_str()
        .unwrap()
        .starts_with("Invalid cookbook name 'first@second'"));
    let r = s
        .put(su, "/organizations/acme/cookbooks/web/abc", &json!({}))
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["Invalid cookbook version 'abc'."]})
    );
    let r = s.get(su, "/organizations/acme/cookbooks/web/1.0.0").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": ["Cannot find a cookbook named web with version 1.0.0"]})
    );
    let mut bad = version_doc("web", "1.0.0", None, json!({"apt": ">= 1.2.3.4"}));
    let r = s
        .put(su, "/organizations/acme/cookbooks/web/1.0.0", &bad)
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["Invalid value '>= 1.2.3.4' for metadata.dependencies"]})
    );
    bad["metadata"]["dependencies"] = json!({});
    bad["bogus"] = json!(1);
    let r = s
        .put(su, "/organizations/acme/cookbooks/web/1.0.0", &bad)
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["Invalid key bogus in request body"]})
    );

    // Outsiders get 403; a client of the org may read but not upload.
    let outsider = s.create_user("mallory").await;
    let r = s.get(&outsider, "/organizations/acme/cookbooks").await;
    assert_eq!(r.status, 403);
    let r = s
        .post(
            &outsider,
            "/organizations/acme/sandboxes",
            &json!({"checksums": {md5_hex(b"a"): null}}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .post(
            su,
            "/organizations/acme/clients",
            &json!({"name": "node1", "create_key": true}),
        )
        .await;
    let node = Actor::new("node1", r.body["chef_key"]["private_key"].as_str().unwrap());
    assert_eq!(
        s.get(&node, "/organizations/acme/cookbooks").await.status,
        200
    );
    let r = s
        .put(
            &node,
            "/organizations/acme/cookbooks/web/1.0.0",
            &version_doc("web", "1.0.0", None, json!({})),
        )
        .await;
    assert_eq!(r.status, 403);
    // Unsigned file requests need a URL signature.
    let r = s
        .client()
        .get(s.url(&format!(
            "/organizations/acme/file_store/checksums/{}",
            md5_hex(b"a")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn environment_constraints_filter_cookbooks() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    for v in ["1.0.0", "2.0.0", "3.0.0"] {
        let url = format!("/organizations/acme/cookbooks/one/{v}");
        assert_eq!(
            s.put(su, &url, &version_doc("one", v, None, json!({})))
                .await
                .status,
            201
        );
    }
    let url = "/organizations/acme/cookbooks/two/0.5.0";
    assert_eq!(
        s.put(su, url, &version_doc("two", "0.5.0", None, json!({})))
            .await
            .status,
        201
    );
    let env = json!({"name": "prod", "cookbook_versions": {"one": "< 3.0.0"}});
    assert_eq!(
        s.post(su, "/organizations/acme/environments", &env)
            .await
            .status,
        201
    );

    let versions = |b: &Value, cb: &str| -> Vec<String> {
        b[cb]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap().to_string())
            .collect()
    };
    let r = s
        .get(su, "/organizations/acme/environments/prod/cookbooks")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(versions(&r.body, "one"), ["2.0.0"]);
    assert_eq!(versions(&r.body, "two"), ["0.5.0"]);
    let r = s
        .get(
            su,
            "/organizations/acme/environments/prod/cookbooks?num_versions=all",
        )
        .await;
    assert_eq!(versions(&r.body, "one"), ["2.0.0", "1.0.0"]);
    let r = s
        .get(su, "/organizations/acme/environments/prod/cookbooks/one")
        .await;
    assert_eq!(versions(&r.body, "one"), ["2.0.0", "1.0.0"]);
    let r = s
        .get(su, "/organizations/acme/environments/prod/cookbooks/nope")
        .await;
    assert_eq!(
        r.body,
        json!({"error": ["Cannot find a cookbook named nope"]})
    );
    let r = s
        .get(su, "/organizations/acme/environments/nope/cookbooks")
        .await;
    assert_eq!(r.body, json!({"error": ["Cannot load environment nope"]}));
    let r = s
        .get(su, "/organizations/acme/environments/_default/cookbooks")
        .await;
    assert_eq!(versions(&r.body, "one"), ["3.0.0"]);
    let r = s
        .get(su, "/organizations/acme/environments/prod/recipes")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn sweep_removes_only_unreferenced_files() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    let sums = upload(&s, su, &[b"kept".as_slice(), b"abandoned".as_slice()]).await;
    let doc = version_doc("web", "1.0.0", Some(&sums[0]), json!({}));
    let url = "/organizations/acme/cookbooks/web/1.0.0";
    assert_eq!(s.put(su, url, &doc).await.status, 201);

    let blobs = s.state.blobs.clone();
    let grace = std::time::Duration::from_secs(3600);
    let r = brigade::blobs::sweep::sweep_once(&s.state.store, &blobs, grace)
        .await
        .unwrap();
    assert_eq!(r.blobs_deleted, 0, "files inside the grace period stay");
    let r = brigade::blobs::sweep::sweep_once(&s.state.store, &blobs, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(r.blobs_deleted, 1);
    let org = s.state.store.org_by_name("acme").await.unwrap().unwrap();
    let key = |sum: &str| brigade::blobs::cookbook_key(&org.id, sum);
    assert!(blobs.get(&key(&sums[0])).await.unwrap().is_some());
    assert!(blobs.get(&key(&sums[1])).await.unwrap().is_none());
    let again = s
        .post(
            su,
            "/organizations/acme/sandboxes",
            &json!({"checksums": {sums[1].clone(): null, sums[0].clone(): null}}),
        )
        .await;
    assert_eq!(again.body["checksums"][&sums[1]]["needs_upload"], true);
    assert_eq!(again.body["checksums"][&sums[0]]["needs_upload"], false);
    let r = s.get(su, url).await;
    let file = r.body["recipes"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(s.client().get(&file).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn environment_cookbook_versions_are_solved() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let su = &s.superuser;
    for (name, v, deps) in [
        ("base", "1.0.0", json!({})),
        ("base", "2.0.0", json!({})),
        ("web", "1.0.0", json!({"base": "~> 1.0"})),
    ] {
        let url = format!("/organizations/acme/cookbooks/{name}/{v}");
        assert_eq!(
            s.put(su, &url, &version_doc(name, v, None, deps))
                .await
                .status,
            201
        );
    }
    let solve = "/organizations/acme/environments/_default/cookbook_versions";
    let r = s
        .post(su, solve, &json!({"run_list": ["web::default"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["web"]["version"], "1.0.0");
    assert_eq!(r.body["base"]["version"], "1.0.0");
    assert!(r.body["web"]["metadata"].get("long_description").is_none());
    let r = s
        .post(su, solve, &json!({"run_list": ["recipe[base]"]}))
        .await;
    assert_eq!(r.body["base"]["version"], "2.0.0");
    assert!(r.body.get("web").is_none());
    assert_eq!(
        s.post(su, solve, &json!({"run_list": []})).await.body,
        json!({})
    );
    let r = s.post(su, solve, &json!({"run_list": "web"})).await;
    assert_eq!(
        r.body,
        json!({"error": ["Field 'run_list' is not a valid run list"]})
    );
    let r = s.post(su, solve, &json!({"run_list": ["nope"]})).await;
    assert_eq!(r.status, 412);
    assert_eq!(
        r.body["error"][0]["non_existent_cookbooks"],
        json!(["nope"])
    );
    let r = s
        .post(su, solve, &json!({"run_list": ["base@3.0.0"]}))
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        r.body["error"][0]["cookbooks_with_no_versions"],
        json!(["(base = 3.0.0)"])
    );
    let r = s
        .post(
            su,
            "/organizations/acme/environments/nope/cookbook_versions",
            &json!({"run_list": []}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, json!({"error": ["environment 'nope' not found"]}));
}

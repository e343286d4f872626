//! Search over HTTP: the index list, queries on every index, row shapes, paging,
//! partial search, errors, ACL filtering, deletions, and read-your-writes (no polling:
//! a write's response means the change is searchable).

mod common;

use common::{Actor, TestServer};
use serde_json::{json, Value};

/// Percent-encodes a query value (everything but unreserved characters, `*` and `:`).
fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(s: &TestServer, who: &Actor, index: &str, q: &str) -> common::Response {
    s.get(
        who,
        &format!("/organizations/acme/search/{index}?q={}", enc(q)),
    )
    .await
}

async fn names(s: &TestServer, index: &str, q: &str) -> Vec<String> {
    let r = search(s, &s.superuser, index, q).await;
    assert_eq!(r.status, 200, "{q}: {}", r.text);
    let mut out: Vec<String> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row["raw_data"]["id"]
                .as_str()
                .or(row["name"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

async fn node(s: &TestServer, body: Value) {
    let r = s
        .post(&s.superuser, "/organizations/acme/nodes", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn seed_nodes(s: &TestServer) {
    node(
        s,
        json!({"name": "web1", "chef_environment": "prod", "run_list": ["role[web]", "recipe[nginx::ssl]"],
               "automatic": {"ipaddress": "10.0.0.1", "platform": "ubuntu", "platform_version": "22.04",
                             "languages": {"ruby": {"version": "3.1"}}, "memory": {"total": "2048"}},
               "normal": {"tags": ["frontend"]}}),
    )
    .await;
    node(
        s,
        json!({"name": "web2", "chef_environment": "dev", "run_list": ["role[web]"],
               "automatic": {"ipaddress": "10.0.0.2", "platform": "ubuntu", "memory": {"total": "4096"}}}),
    )
    .await;
    node(
        s,
        json!({"name": "db1", "chef_environment": "prod", "run_list": ["role[db]"],
               "automatic": {"ipaddress": "10.0.0.3", "platform": "centos", "memory": {"total": "8192"}},
               "default": {"description": "Primary Database Server"}}),
    )
    .await;
}

#[tokio::test]
async fn node_queries_follow_erchef_semantics() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    seed_nodes(&s).await;
    assert_eq!(
        names(&s, "node", "role:web AND chef_environment:prod").await,
        ["web1"]
    );
    assert_eq!(
        names(&s, "node", "platform:ubuntu*").await,
        ["web1", "web2"]
    );
    assert_eq!(
        names(&s, "node", "platform:Ubuntu").await,
        Vec::<String>::new()
    );
    assert_eq!(names(&s, "node", "recipe:nginx\\:\\:ssl").await, ["web1"]);
    assert_eq!(names(&s, "node", "run_list:role\\[db\\]").await, ["db1"]);
    assert_eq!(names(&s, "node", "languages:ruby").await, ["web1"]);
    assert_eq!(names(&s, "node", "languages_ruby:*").await, ["web1"]);
    assert_eq!(names(&s, "node", "version:3.1").await, ["web1"]);
    assert_eq!(
        names(&s, "node", "memory_total:[3000 TO 9000]").await,
        ["db1", "web2"]
    );
    assert_eq!(
        names(&s, "node", "memory_total:{2048 TO 8192}").await,
        ["web2"]
    );
    assert_eq!(names(&s, "node", "NOT platform:ubuntu").await, ["db1"]);
    assert_eq!(names(&s, "node", "tags:*front*").await, ["web1"]);
    assert_eq!(
        names(&s, "node", "description:\"Primary Database\"").await,
        ["db1"]
    );
    // As in erchef, only the first word of a value carries the key.
    assert!(names(&s, "node", "description:\"Database Server\"")
        .await
        .is_empty());
    assert_eq!(names(&s, "node", "\"Database Server\"").await, ["db1"]);
    assert_eq!(
        names(
            &s,
            "node",
            "(role:db OR role:web) AND -chef_environment:dev"
        )
        .await,
        ["db1", "web1"]
    );
    assert_eq!(names(&s, "node", "*:*").await, ["db1", "web1", "web2"]);
    // knife's fuzzified query for `knife search node web`.
    assert_eq!(
        names(&s, "node", "tags:*web* OR roles:*web* OR fqdn:*web* OR addresses:*web* OR policy_name:*web* OR policy_group:*web*").await,
        Vec::<String>::new()
    );
    // A literal `%41` is decoded once more, as erchef does.
    let r = s
        .get(
            &s.superuser,
            "/organizations/acme/search/node?q=name:%2577eb1",
        )
        .await;
    assert_eq!(r.body["total"], 1, "{}", r.text);

    // Full rows are the stored nodes.
    let r = search(&s, &s.superuser, "node", "name:web2").await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["start"], 0);
    let stored = s.get(&s.superuser, "/organizations/acme/nodes/web2").await;
    assert_eq!(r.body["rows"], json!([stored.body]));
}

#[tokio::test]
async fn partial_search_returns_requested_paths() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    seed_nodes(&s).await;
    // What `knife search node 'role:web AND chef_environment:prod' -a ipaddress` sends.
    let r = s
        .post(
            &s.superuser,
            &format!(
                "/organizations/acme/search/node?q={}&sort=X_CHEF_id_CHEF_X%20asc&start=0&rows=1000",
                enc("role:web AND chef_environment:prod")
            ),
            &json!({"ipaddress": ["ipaddress"], "name": ["name"], "total": ["memory", "total"],
                    "nope": ["no", "such"], "empty": [], "bad": ["ipaddress", "x"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"total": 1, "start": 0, "rows": [{
            "url": s.url("/organizations/acme/nodes/web1"),
            "data": {"ipaddress": "10.0.0.1", "name": "web1", "total": "2048", "nope": null,
                     "empty": null, "bad": "ERROR - Attribute does not exist"}
        }]})
    );
    for bad in [
        json!({"a": "x"}),
        json!({"a": [1]}),
        json!({"a": {"b": 1}}),
        json!(["a"]),
    ] {
        let r = s
            .post(&s.superuser, "/organizations/acme/search/node?q=*:*", &bad)
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.body,
            json!({"error": ["invalid partial search request body"]})
        );
    }
}

#[tokio::test]
async fn data_bag_search_unwraps_items_and_wraps_rows() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = &s.superuser;
    assert_eq!(
        s.post(p, "/organizations/acme/data", &json!({"name": "x"}))
            .await
            .status,
        201
    );
    for item in [
        json!({"id": "foo", "path": "foo/bar"}),
        json!({"id": "foo-bar"}),
        json!({"id": "alice", "ssh": {"public_key": "---RSA Public Key--- Alice"}}),
        json!({"json_class": "Chef::DataBagItem", "raw_data": {"id": "wrapped", "k": "v"}}),
    ] {
        let r = s.post(p, "/organizations/acme/data/x", &item).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = s.get(p, "/organizations/acme/search").await;
    assert_eq!(
        r.body,
        json!({
            "client": s.url("/organizations/acme/search/client"),
            "environment": s.url("/organizations/acme/search/environment"),
            "node": s.url("/organizations/acme/search/node"),
            "role": s.url("/organizations/acme/search/role"),
            "x": s.url("/organizations/acme/search/x"),
        })
    );
    assert_eq!(names(&s, "x", "id:foo-bar").await, ["foo-bar"]);
    assert_eq!(
        names(&s, "x", "id:foo* AND NOT bar").await,
        ["foo", "foo-bar"]
    );
    assert_eq!(names(&s, "x", "path:foo\\/*").await, ["foo"]);
    assert_eq!(names(&s, "x", "ssh_public_key:*").await, ["alice"]);
    assert!(names(&s, "x", "raw_data_ssh_public_key:*").await.is_empty());
    assert_eq!(
        names(&s, "x", "k:v AND data_bag:x AND chef_type:data_bag_item").await,
        ["wrapped"]
    );
    let r = search(&s, p, "x", "id:wrapped").await;
    assert_eq!(
        r.body["rows"],
        json!([{"name": "data_bag_item_x_wrapped", "json_class": "Chef::DataBagItem",
                "chef_type": "data_bag_item", "data_bag": "x", "raw_data": {"id": "wrapped", "k": "v"}}])
    );
    let r = s
        .post(
            p,
            "/organizations/acme/search/x?q=id:alice",
            &json!({"key": ["ssh", "public_key"]}),
        )
        .await;
    assert_eq!(
        r.body["rows"],
        json!([{"url": s.url("/organizations/acme/data/x/alice"),
                "data": {"key": "---RSA Public Key--- Alice"}}])
    );

    // Deleting an item, then the bag, removes their documents.
    assert_eq!(
        s.delete(p, "/organizations/acme/data/x/foo").await.status,
        200
    );
    assert_eq!(names(&s, "x", "id:foo*").await, ["foo-bar"]);
    assert_eq!(s.delete(p, "/organizations/acme/data/x").await.status, 200);
    let r = search(&s, p, "x", "id:*").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": ["I don't know how to search for x data objects."]})
    );
    assert_eq!(
        s.post(p, "/organizations/acme/data", &json!({"name": "x"}))
            .await
            .status,
        201
    );
    assert_eq!(search(&s, p, "x", "*:*").await.body["total"], 0);
}

#[tokio::test]
async fn errors_paging_and_built_in_indexes() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let p = &s.superuser;
    for q in ["name:", "(a:1", "a:1 AND", "name:[a TO", "\"open"] {
        let r = search(&s, p, "node", q).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(
            r.body,
            json!({"error": [format!("invalid search query: '{q}'")]})
        );
    }
    let r = s.get(p, "/organizations/acme/search/node?q=").await;
    assert_eq!(r.status, 400);
    let r = s.get(p, "/organizations/acme/search/node?start=x").await;
    assert_eq!(r.body, json!({"error": ["invalid 'start' value: 'x'"]}));
    let r = s.get(p, "/organizations/acme/search/node?rows=-1").await;
    assert_eq!(r.body, json!({"error": ["invalid 'rows' value: '-1'"]}));
    let r = s.get(p, "/organizations/acme/search/nosuchbag").await;
    assert_eq!(r.status, 404);

    for i in 0..5 {
        let r = s
            .post(
                p,
                "/organizations/acme/roles",
                &json!({"name": format!("r{i}"), "description": "d"}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let page = |start: usize, rows: usize| {
        format!("/organizations/acme/search/role?q=name:r*&start={start}&rows={rows}")
    };
    let r = s.get(p, &page(0, 2)).await;
    assert_eq!(r.body["total"], 5);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 2);
    let r = s.get(p, &page(2, 1000)).await;
    assert_eq!(
        (
            r.body["start"].clone(),
            r.body["rows"].as_array().unwrap().len()
        ),
        (json!(2), 3)
    );
    let r = s.get(p, &page(5, 10)).await;
    assert_eq!(r.body["rows"], json!([]));
    assert_eq!(r.body["total"], 5);
    // Every org starts with a searchable `_default` environment and validator client.
    assert_eq!(
        names(&s, "environment", "name:_default").await,
        ["_default"]
    );
    let r = search(&s, p, "client", "name:acme-validator").await;
    let shown = s.get(p, "/organizations/acme/clients/acme-validator").await;
    assert_eq!(r.body["rows"], json!([shown.body]));
    assert_eq!(
        names(&s, "client", "validator:true").await,
        ["acme-validator"]
    );

    // Renames and deletions are reflected at once.
    let r = s
        .put(
            p,
            "/organizations/acme/environments/_default",
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!(r.status, 405);
    let r = s
        .post(
            p,
            "/organizations/acme/environments",
            &json!({"name": "staging"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = s
        .put(
            p,
            "/organizations/acme/environments/staging",
            &json!({"name": "qa", "description": "renamed"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        names(&s, "environment", "description:renamed").await,
        ["qa"]
    );
    assert!(names(&s, "environment", "name:staging").await.is_empty());
    assert_eq!(
        s.delete(p, "/organizations/acme/roles/r0").await.status,
        200
    );
    assert_eq!(search(&s, p, "role", "*:*").await.body["total"], 4);
}

#[tokio::test]
async fn rows_respect_read_acls_and_org_deletion_removes_documents() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    let bob = s.create_user("bob").await;
    s.associate("acme", "bob").await;
    s.add_to_group("acme", "users", "bob").await;
    let p = &s.superuser;
    for n in ["n1", "n2"] {
        node(&s, json!({"name": n})).await;
    }
    assert_eq!(
        search(&s, &bob, "node", "*:*").await.body["rows"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = s
        .put(
            p,
            "/organizations/acme/nodes/n1/_acl/read",
            &json!({"read": {"actors": ["pivotal"], "groups": ["admins"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = search(&s, &bob, "node", "*:*").await;
    assert_eq!(r.body["total"], 2, "total counts every match");
    let rows: Vec<&str> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["n2"]);
    let r = s
        .post(
            p,
            "/organizations/acme/search/node?q=*:*",
            &json!({"n": ["name"]}),
        )
        .await;
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 2);

    // Deleting the org drops its documents; a new org of the same name starts empty.
    assert_eq!(s.delete(p, "/organizations/acme").await.status, 200);
    s.create_org("acme").await;
    assert_eq!(search(&s, p, "node", "*:*").await.body["total"], 0);
    let engine_total = s.state.search.applied_seq();
    assert!(engine_total > 0);
}

#[tokio::test]
async fn index_catches_up_after_restart_and_reindex_rebuilds() {
    let s = TestServer::start().await;
    s.create_org("acme").await;
    seed_nodes(&s).await;
    // Rebuild into a fresh folder from the database: same answers.
    let mut config = (*s.state.config).clone();
    config.data_dir = s.data_dir.path().join("other");
    let n = brigade::search::reindex(&config, &s.state.store)
        .await
        .unwrap();
    assert!(n >= 5, "{n}");
    let state = brigade::AppState::new(config, s.state.store.clone());
    state.search.catch_up().await.unwrap();
    let hits = state
        .search
        .query(
            &s.state.store.org_by_name("acme").await.unwrap().unwrap().id,
            "node",
            brigade::search::query::parse("platform:ubuntu").unwrap(),
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(hits.names, ["web1", "web2"]);
}

/// Two servers, each with its own index, on one database: what one saves or deletes, the
/// other's search reflects at once.
#[tokio::test]
async fn servers_sharing_a_database_converge() {
    let a = TestServer::start().await;
    a.create_org("acme").await;
    let url = a.state.config.database_url.clone();
    let pem = a.superuser.key_pem.clone();
    let b = TestServer::start_with(move |c| {
        c.database_url = url;
        c.superuser.key_pem = Some(pem);
    })
    .await;
    let n = |name: &str| json!({"name": name, "automatic": {"platform": "ubuntu"}});
    node(&a, n("n1")).await;
    assert_eq!(names(&b, "node", "platform:ubuntu").await, ["n1"]);
    node(&b, n("n2")).await;
    assert_eq!(names(&a, "node", "platform:ubuntu").await, ["n1", "n2"]);
    let r = a.delete(&a.superuser, "/organizations/acme/nodes/n1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&b, "node", "platform:ubuntu").await, ["n2"]);
}

/// The change log is pruned (keeping its newest row) with a watermark; an index that was
/// not following while rows it never applied were pruned rebuilds instead of replaying
/// what is left, so it does not keep a node deleted in the pruned part.
#[tokio::test]
async fn an_index_behind_a_pruned_change_log_rebuilds() {
    use brigade::search::engine::{SearchIndex, TantivyIndex};
    use brigade::search::{query, Search};
    use std::sync::Arc;

    let s = TestServer::start().await;
    s.create_org("acme").await;
    let store = s.state.store.clone();
    let n = |name: &str| json!({"name": name, "automatic": {"platform": "ubuntu"}});
    node(&s, n("n1")).await;
    // A second index over the same database, built up to here and then closed.
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(TantivyIndex::open(dir.path()).unwrap());
    brigade::search::rebuild(engine.clone(), &store)
        .await
        .unwrap();
    let applied = engine.applied_seq();
    assert!(applied > 0);
    drop(engine);

    let r = s.delete(&s.superuser, "/organizations/acme/nodes/n1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    node(&s, n("n2")).await;
    let head = store.search_change_head().await.unwrap();
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let (mark, pruned) = store.prune_search_changes(future).await.unwrap();
    assert_eq!(mark, head - 1, "the newest row is kept");
    assert!(pruned >= 2, "{pruned}");
    assert_eq!(store.search_changes_pruned_through().await.unwrap(), mark);
    assert_eq!(store.search_change_head().await.unwrap(), head);
    // Nothing older is left to prune.
    assert_eq!(store.prune_search_changes(future).await.unwrap(), (mark, 0));

    let search = Search::open(dir.path(), store.clone()).unwrap();
    search.catch_up().await.unwrap();
    let org = store.org_by_name("acme").await.unwrap().unwrap();
    let q = query::parse("platform:ubuntu").unwrap();
    let hits = search.query(&org.id, "node", q, 0, 10).await.unwrap();
    assert_eq!(hits.names, ["n2"]);
    // The server's own index, which followed along, agrees.
    assert_eq!(names(&s, "node", "platform:ubuntu").await, ["n2"]);
}

/// A node's key for the searches below: chef-client registers with the validator.
async fn node_client(s: &TestServer, validator: &Actor) -> Actor {
    let r = s
        .post_v(
            validator,
            "/organizations/acme/clients",
            &json!({"name": "web9"}),
            "0",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    Actor::new("web9", r.body["private_key"].as_str().unwrap())
}

/// The clause bomb (200 `*:*a*a…*` clauses joined with OR, sent by a node) took
/// seconds of CPU; it and each smaller abuse is now a 400 naming the limit it passes,
/// while the queries knife and chef-client send still answer.
#[tokio::test]
async fn expensive_queries_are_400s_naming_their_limit() {
    let s = TestServer::start().await;
    let validator = s.create_org("acme").await;
    seed_nodes(&s).await;
    let node = node_client(&s, &validator).await;
    let bomb = vec![format!("*:*{}", "a*".repeat(41)); 200].join(" OR ");
    let t = std::time::Instant::now();
    let r = search(&s, &node, "node", &bomb).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": ["Search query is 17796 bytes long, more than the 16384 allowed"]})
    );
    assert!(t.elapsed().as_secs() < 2, "{:?}", t.elapsed());
    let cases = [
        (
            vec!["*:*a*a*a*a*a*"; 100].join(" OR "),
            "Search query has 100 wildcard or fuzzy terms, more than the 64 allowed",
        ),
        (
            "name:web* OR *:*a*a*a*a*a*a*a*a*".to_string(),
            "Search query term '*:*a*a*a*a*a*a*a*a*' has 10 wildcards, more than the 8 allowed",
        ),
        (
            "*:*a* OR *:*b* OR *_ipaddress:10.* OR *c OR *:*d*".to_string(),
            "Search query has 5 terms with a wildcard in the field name or a leading \
             wildcard, more than the 4 allowed",
        ),
        (
            vec!["name:a"; 1025].join(" OR "),
            "Search query has 1025 clauses, more than the 1024 allowed",
        ),
    ];
    for (q, message) in cases {
        let r = search(&s, &node, "node", &q).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert_eq!(r.body, json!({ "error": [message] }), "{q}");
        let partial = s
            .post(
                &node,
                &format!("/organizations/acme/search/node?q={}", enc(&q)),
                &json!({"name": ["name"]}),
            )
            .await;
        assert_eq!(partial.status, 400, "{q}: {}", partial.text);
    }
    for q in [
        "name:web*",
        "role:web AND chef_environment:prod",
        "*:*",
        "recipes:nginx\\:\\:ssl",
        "*_ipaddress:10.*",
        "platform:ubuntu* AND platform_version:2?.04",
    ] {
        let r = search(&s, &node, "node", q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
    }
    assert!(!names(&s, "node", "name:web*").await.is_empty());
}

/// With the limits raised, the bomb runs until its time budget is spent, is stopped,
/// and answers a 400 naming the budget (not a 5xx, which clients would retry).
#[tokio::test]
async fn a_query_past_its_time_budget_is_stopped() {
    let s = TestServer::start_with(|c| {
        c.search.query_timeout_ms = 100;
        c.search.max_query_length = 100_000;
        c.search.max_wildcard_terms = 1_000;
        c.search.max_wildcard_field_terms = 1_000;
        c.search.max_wildcards_per_term = 100;
    })
    .await;
    s.create_org("acme").await;
    seed_nodes(&s).await;
    let bomb = vec![format!("*:*{}", "a*".repeat(41)); 200].join(" OR ");
    let t = std::time::Instant::now();
    let r = search(&s, &s.superuser, "node", &bomb).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": ["Search query stopped: it ran longer than the 100 ms allowed; \
                          make it more selective (fewer wildcards, longer literal prefixes)"]})
    );
    assert!(t.elapsed().as_secs() < 3, "{:?}", t.elapsed());
    assert!(!names(&s, "node", "name:web*").await.is_empty());
}

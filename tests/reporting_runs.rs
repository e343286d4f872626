//! Reporting ingest: `POST …/reports/nodes/NODE/runs` (start) and `POST …/runs/RUN_ID`
//! (end, gzip): chef-client's shapes and times, the protocol header, idempotence,
//! validation (400, nothing stored) and who may post.

mod common;
mod reporting_common;

use common::{Actor, TestServer};
use reporting_common::*;
use serde_json::json;

const RUNS: &str = "/organizations/acme/reports/nodes/web1/runs";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn chef_client_start_and_gzip_end_are_stored() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let id = new_run_id();
    let t0 = now() - 120;
    let r = post(&s, &web1, RUNS, &start_body(&id, t0)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let uri = s.url(&format!("{RUNS}/{id}"));
    assert_eq!(r.body["uri"], uri);
    assert_eq!(r.header("location"), Some(uri.as_str()));
    assert!(r.header("x-ops-server-api-version").is_some());

    let listed = get(&s, &web1, RUNS).await;
    assert_eq!(listed.body["run_history"][0]["status"], "started");
    assert_eq!(listed.body["run_history"][0]["end_time"], json!(null));

    let r = post_gzip(
        &s,
        &web1,
        &format!("{RUNS}/{id}"),
        &end_body("failure", t0, t0 + 42, 3),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["run_id"], id);

    let r = get(&s, &web1, &format!("{RUNS}/{id}?detail=true")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.body["run_detail"];
    assert_eq!(d["status"], "failure");
    assert_eq!(d["node_name"], "web1");
    assert_eq!(d["total_res_count"], 3);
    assert_eq!(d["updated_res_count"], 3);
    assert_eq!(d["run_list"], "[\"recipe[base]\"]");
    assert_eq!(d["data"]["exception"]["message"], "boom");
    let start_iso = chrono::DateTime::from_timestamp(t0, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(d["start_time"], start_iso);
    let res = r.body["run_resources"].as_array().unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res[0]["type"], "file");
    assert_eq!(res[0]["name"], "/tmp/file0");
    assert_eq!(res[0]["id"], "/tmp/file0");
    assert_eq!(res[0]["result"], "create");
    assert_eq!(res[0]["duration"], "10");
    assert_eq!(res[0]["cookbook_name"], "base");
    assert_eq!(res[0]["cookbook_version"], "1.2.3");
    assert_eq!(res[0]["initial_state"]["owner"], json!(null));
    assert_eq!(res[0]["final_state"]["owner"], "root");
    assert_eq!(res[2]["uri"], format!("{uri}/2"));
}

#[tokio::test]
async fn protocol_header_is_required() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let id = new_run_id();
    let body = Some(start_body(&id, now()).to_string().into_bytes());
    let json = [("Content-Type", "application/json")];
    for (protocol, status) in [(None, 404), (Some("0.0.9"), 406), (Some("1.0"), 406)] {
        let r = send(&s, &web1, "POST", RUNS, body.clone(), protocol, &json).await;
        assert_eq!(r.status, status, "{protocol:?}: {}", r.text);
        assert!(
            r.body["error"][0].as_str().unwrap().contains("0.1.0"),
            "{}",
            r.text
        );
        assert!(r.header("x-ops-server-api-version").is_some());
        let r = send(&s, &web1, "GET", RUNS, None, protocol, &[]).await;
        assert_eq!(r.status, status);
        let r = send(
            &s,
            &web1,
            "GET",
            "/organizations/acme/reports/org/runs",
            None,
            protocol,
            &[],
        )
        .await;
        assert_eq!(r.status, status);
        let r = send(&s, &web1, "GET", "/reports/status", None, protocol, &[]).await;
        assert_eq!(r.status, status);
    }
    // Nothing was stored by the refused posts.
    let r = get(&s, &web1, RUNS).await;
    assert_eq!(r.body["total"], 0);
}

#[tokio::test]
async fn repeated_posts_are_idempotent() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let id = new_run_id();
    let t0 = now() - 60;
    assert_eq!(
        post(&s, &web1, RUNS, &start_body(&id, t0)).await.status,
        201
    );
    assert_eq!(
        post(&s, &web1, RUNS, &start_body(&id, t0)).await.status,
        200
    );
    let end = end_body("success", t0, t0 + 5, 4);
    for _ in 0..2 {
        let r = post_gzip(&s, &web1, &format!("{RUNS}/{id}"), &end).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // A late duplicate start does not reset the finished run.
    assert_eq!(
        post(&s, &web1, RUNS, &start_body(&id, t0)).await.status,
        200
    );
    let r = get(&s, &web1, &format!("{RUNS}/{id}?detail=true&rows=100")).await;
    assert_eq!(r.body["run_detail"]["status"], "success");
    assert_eq!(r.body["run_resources"].as_array().unwrap().len(), 4);
    let r = get(&s, &web1, RUNS).await;
    assert_eq!(r.body["total"], 1);
}

#[tokio::test]
async fn end_without_start_needs_start_time() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let t0 = now() - 30;
    let id = new_run_id();
    // Plain JSON (not gzip) is accepted too.
    let r = post(
        &s,
        &web1,
        &format!("{RUNS}/{id}"),
        &end_body("success", t0, t0 + 3, 1),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut body = end_body("success", t0, t0 + 3, 1);
    body.as_object_mut().unwrap().remove("start_time");
    let other = new_run_id();
    let r = post_gzip(&s, &web1, &format!("{RUNS}/{other}"), &body).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(get(&s, &web1, RUNS).await.body["total"], 1);
}

#[tokio::test]
async fn accepts_the_time_formats_clients_send() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let cases = [
        ("2026-03-04 05:06:07 UTC", "2026-03-04T05:06:07Z"),
        ("2026-03-04 05:06:07 +0000", "2026-03-04T05:06:07Z"),
        ("2026-03-03 22:06:07 -0700", "2026-03-04T05:06:07Z"),
        ("2026-03-04T05:06:07Z", "2026-03-04T05:06:07Z"),
        ("2026-03-04T07:06:07+02:00", "2026-03-04T05:06:07Z"),
    ];
    for (sent, stored) in cases {
        let id = new_run_id();
        let r = post(
            &s,
            &web1,
            RUNS,
            &json!({"action": "start", "run_id": id, "start_time": sent}),
        )
        .await;
        assert_eq!(r.status, 201, "{sent}: {}", r.text);
        let end = json!({"action": "end", "status": "success", "resources": [], "total_res_count": "0",
                         "run_list": "[]", "data": {}, "start_time": sent, "end_time": "2026-03-04 05:07:07 UTC"});
        let r = post_gzip(&s, &web1, &format!("{RUNS}/{id}"), &end).await;
        assert_eq!(r.status, 200, "{sent}: {}", r.text);
        let r = get(&s, &web1, &format!("{RUNS}/{id}?detail=true")).await;
        assert_eq!(r.body["run_detail"]["start_time"], stored, "{sent}");
        assert_eq!(r.body["run_detail"]["end_time"], "2026-03-04T05:07:07Z");
    }
}

#[tokio::test]
async fn bad_start_bodies_are_400_and_store_nothing() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let id = new_run_id();
    let t = ruby_time(now());
    let cases = [
        (
            json!({"run_id": id, "start_time": t}),
            "Field 'action' missing",
        ),
        (
            json!({"action": "end", "run_id": id, "start_time": t}),
            "Field 'action' invalid",
        ),
        (
            json!({"action": "start", "start_time": t}),
            "Field 'run_id' missing",
        ),
        (
            json!({"action": "start", "run_id": "not-a-uuid", "start_time": t}),
            "Field 'run_id' invalid",
        ),
        (
            json!({"action": "start", "run_id": 7, "start_time": t}),
            "Field 'run_id' invalid",
        ),
        (
            json!({"action": "start", "run_id": id}),
            "Field 'start_time' missing",
        ),
        (
            json!({"action": "start", "run_id": id, "start_time": "tomorrow"}),
            "Field 'start_time' invalid",
        ),
        (json!(["start"]), "Incorrect JSON type for request body"),
    ];
    for (body, msg) in cases {
        let r = post(&s, &web1, RUNS, &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(
            r.body["error"][0].as_str().unwrap().starts_with(msg),
            "{body}: {}",
            r.text
        );
    }
    let json = [("Content-Type", "application/json")];
    let r = send(
        &s,
        &web1,
        "POST",
        RUNS,
        Some(b"{not json".to_vec()),
        Some(PROTOCOL),
        &json,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"][0], "invalid JSON");
    assert_eq!(get(&s, &web1, RUNS).await.body["total"], 0);
}

#[tokio::test]
async fn bad_end_bodies_are_400_and_store_nothing() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let id = new_run_id();
    let t0 = now() - 100;
    assert_eq!(
        post(&s, &web1, RUNS, &start_body(&id, t0)).await.status,
        201
    );
    let good = end_body("success", t0, t0 + 10, 2);
    let with = |key: &str, v: serde_json::Value| {
        let mut b = good.clone();
        b[key] = v;
        b
    };
    let without = |key: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases = [
        (without("action"), "Field 'action' missing"),
        (without("status"), "Field 'status' missing"),
        (with("status", json!("exploded")), "Field 'status' invalid"),
        (without("end_time"), "Field 'end_time' missing"),
        (
            with("end_time", json!("half past")),
            "Field 'end_time' invalid",
        ),
        (
            with("end_time", json!(ruby_time(t0 - 10))),
            "Field 'end_time' invalid",
        ),
        (
            without("total_res_count"),
            "Field 'total_res_count' missing",
        ),
        (
            with("total_res_count", json!("many")),
            "Field 'total_res_count' invalid",
        ),
        (
            with("total_res_count", json!(-1)),
            "Field 'total_res_count' invalid",
        ),
        (without("resources"), "Field 'resources' missing"),
        (with("resources", json!({})), "Field 'resources' invalid"),
        (
            with("resources", json!(["file"])),
            "Field 'resources[0]' invalid",
        ),
        (
            with("resources", json!([{"name": "x"}])),
            "Field 'resources[0].type' missing",
        ),
        (
            with(
                "resources",
                json!([{"type": "file", "name": "x", "after": 3}]),
            ),
            "Field 'resources[0].after' invalid",
        ),
        (with("data", json!("oops")), "Field 'data' invalid"),
        (with("run_list", json!(12)), "Field 'run_list' invalid"),
    ];
    for (body, msg) in cases {
        let r = post_gzip(&s, &web1, &format!("{RUNS}/{id}"), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(
            r.body["error"][0].as_str().unwrap().starts_with(msg),
            "{msg}: {}",
            r.text
        );
    }
    // A body that says gzip but is not.
    let headers = [("Content-Encoding", "gzip")];
    let r = send(
        &s,
        &web1,
        "POST",
        &format!("{RUNS}/{id}"),
        Some(good.to_string().into_bytes()),
        Some(PROTOCOL),
        &headers,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"][0], "invalid gzip request body");
    // A run id that is not a UUID.
    let r = post_gzip(&s, &web1, &format!("{RUNS}/run-42"), &good).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The run is still only started.
    let r = get(&s, &web1, &format!("{RUNS}/{id}?detail=true")).await;
    assert_eq!(r.body["run_detail"]["status"], "started");
    assert_eq!(r.body["run_resources"], json!([]));
    assert_eq!(get(&s, &web1, RUNS).await.body["total"], 1);
}

async fn second_client(s: &TestServer) -> Actor {
    let r = s
        .post(
            &s.superuser,
            "/organizations/acme/clients",
            &json!({"name": "web2", "create_key": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    Actor::new("web2", r.body["chef_key"]["private_key"].as_str().unwrap())
}

#[tokio::test]
async fn only_the_node_or_its_updaters_may_post() {
    let s = start().await;
    let (web1, admin) = org_with_node(&s).await;
    let web2 = second_client(&s).await;
    let t0 = now() - 10;

    let r = post(&s, &web2, RUNS, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["error"][0], "missing update permission");
    // An org admin has update on the node.
    let r = post(&s, &admin, RUNS, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A run id is the node's own: another node cannot reuse it.
    let id = new_run_id();
    assert_eq!(
        post(&s, &web1, RUNS, &start_body(&id, t0)).await.status,
        201
    );
    let r = post(
        &s,
        &web2,
        "/organizations/acme/reports/nodes/web2/runs",
        &start_body(&id, t0),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);

    // Users outside the org get erchef's membership 403, for reads and writes.
    let carol = s.create_user("carol").await;
    let r = post(&s, &carol, RUNS, &start_body(&new_run_id(), t0)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["error"][0],
        "'carol' not associated with organization 'acme'"
    );
    assert_eq!(get(&s, &carol, RUNS).await.status, 403);
    // Another node's client may not read these runs (tests/reporting_access.rs); an admin may.
    assert_eq!(get(&s, &web2, RUNS).await.status, 403);
    let r = get(&s, &admin, RUNS).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 2);
    // An unknown org is a 404.
    assert_eq!(
        get(&s, &admin, "/organizations/nope/reports/org/runs")
            .await
            .status,
        404
    );
}

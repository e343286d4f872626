//! Reporting reads: node and org run listings (filters, paging edges), one run's resources
//! and detail, a resource's content delta, run counts per time bucket, run durations, and
//! `/reports/status`.

mod common;
mod reporting_common;

use common::{Actor, TestServer};
use reporting_common::*;
use serde_json::json;

const RUNS: &str = "/organizations/acme/reports/nodes/web1/runs";
const ORG_RUNS: &str = "/organizations/acme/reports/org/runs";

/// Monday 2026-11-30 00:00:00 UTC.
const MONDAY: i64 = 1_795_996_800;

async fn web2(s: &TestServer) -> Actor {
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

fn window(from: i64, until: i64) -> String {
    format!("from={from}&until={until}")
}

#[tokio::test]
async fn listings_filter_and_page() {
    let s = start().await;
    let (web1, admin) = org_with_node(&s).await;
    let web2 = web2(&s).await;
    let now = chrono::Utc::now().timestamp();
    let mut ids = Vec::new();
    for k in 0..5 {
        let status = if k == 1 { "failure" } else { "success" };
        ids.push(record_run(&s, &web1, status, now - 3600 + k * 60, 5, 1).await);
    }
    record_run(&s, &web2, "success", now - 1800, 5, 0).await;
    let w = window(now - 7200, now);

    // knife runs list NODE: newest first, the four keys knife reads.
    let r = get(&s, &web1, &format!("{RUNS}?{w}&rows=2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 5);
    let h = r.body["run_history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0]["run_id"], ids[4].as_str());
    assert_eq!(h[1]["run_id"], ids[3].as_str());
    for key in ["run_id", "node_name", "status", "start_time"] {
        assert!(h[0].get(key).is_some(), "{key}");
    }
    assert_eq!(h[0]["node_name"], "web1");
    // Paging edges: last partial page, past the end, zero rows.
    let r = get(&s, &web1, &format!("{RUNS}?{w}&rows=2&start=4")).await;
    assert_eq!(r.body["run_history"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["run_history"][0]["run_id"], ids[0].as_str());
    let r = get(&s, &web1, &format!("{RUNS}?{w}&start=5")).await;
    assert_eq!(r.body["run_history"], json!([]));
    assert_eq!(r.body["total"], 5);
    let r = get(&s, &web1, &format!("{RUNS}?{w}&rows=0")).await;
    assert_eq!(r.body["run_history"], json!([]));
    // Default rows is 10.
    let r = get(&s, &admin, &format!("{ORG_RUNS}?{w}")).await;
    assert_eq!(r.body["total"], 6);
    assert_eq!(r.body["rows"], 10);
    assert_eq!(r.body["run_history"].as_array().unwrap().len(), 6);
    let r = get(&s, &admin, &format!("{ORG_RUNS}?{w}&rows=1000")).await;
    assert_eq!(r.status, 200);
    for q in [
        "rows=-1",
        "rows=ten",
        "rows=1001",
        "start=-3",
        "status=bogus",
        "from=yesterday",
    ] {
        let r = get(&s, &admin, &format!("{ORG_RUNS}?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert!(r.body["error"][0].is_string());
    }
    let r = get(
        &s,
        &admin,
        &format!("{ORG_RUNS}?from={now}&until={}", now - 10),
    )
    .await;
    assert_eq!(r.status, 400);
    // Status and time filters.
    let r = get(&s, &admin, &format!("{ORG_RUNS}?{w}&status=failure")).await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["run_history"][0]["run_id"], ids[1].as_str());
    let r = get(
        &s,
        &admin,
        &format!("{ORG_RUNS}?{}", window(now - 3600 + 60, now - 3600 + 180)),
    )
    .await;
    assert_eq!(r.body["total"], 3, "from and until are inclusive");
    // RFC 3339 times work as well as Unix seconds.
    let r = get(
        &s,
        &admin,
        &format!("{ORG_RUNS}?from=2000-01-01T00:00:00Z&until={now}"),
    )
    .await;
    assert_eq!(r.body["total"], 6);
    // Without from/until: the last three months.
    assert_eq!(get(&s, &admin, ORG_RUNS).await.body["total"], 6);
    // Another node's listing, and an unknown node's (org-wide and other nodes' reads are
    // for the org's users, not its clients: tests/reporting_access.rs).
    assert_eq!(
        get(&s, &admin, "/organizations/acme/reports/nodes/web2/runs")
            .await
            .body["total"],
        1
    );
    assert_eq!(
        get(&s, &admin, "/organizations/acme/reports/nodes/ghost/runs")
            .await
            .body["total"],
        0
    );
}

#[tokio::test]
async fn run_resources_page_and_detail() {
    let s = start().await;
    let (web1, admin) = org_with_node(&s).await;
    let now = chrono::Utc::now().timestamp();
    let id = record_run(&s, &web1, "success", now - 100, 20, 25).await;
    let path = format!("{RUNS}/{id}");

    let r = get(&s, &web1, &path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let res = r.body["run_resources"].as_array().unwrap();
    assert_eq!(res.len(), 10);
    assert_eq!(res[0]["name"], "/tmp/file0");
    assert!(
        r.body.get("run_detail").is_none(),
        "detail is off by default"
    );
    let r = get(&s, &web1, &format!("{path}?rows=10&start=20&detail=true")).await;
    let res = r.body["run_resources"].as_array().unwrap();
    assert_eq!(res.len(), 5);
    assert_eq!(res[0]["name"], "/tmp/file20");
    assert_eq!(res[0]["uri"], s.url(&format!("{path}/20")));
    assert_eq!(r.body["run_detail"]["total_res_count"], 25);
    assert_eq!(r.body["run_detail"]["status"], "success");
    let r = get(&s, &web1, &format!("{path}?start=25")).await;
    assert_eq!(r.body["run_resources"], json!([]));
    for q in ["detail=maybe", "rows=x", "start=-1"] {
        assert_eq!(
            get(&s, &web1, &format!("{path}?{q}")).await.status,
            400,
            "{q}"
        );
    }
    // Unknown runs, and a run asked for under another node.
    let r = get(&s, &web1, &format!("{RUNS}/{}", new_run_id())).await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"][0].as_str().unwrap().starts_with("No run"));
    let other = format!("/organizations/acme/reports/nodes/web2/runs/{id}");
    assert_eq!(get(&s, &admin, &other).await.status, 404);
    assert_eq!(get(&s, &web1, &format!("{RUNS}/garbage")).await.status, 404);
}

#[tokio::test]
async fn resource_content_delta() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let now = chrono::Utc::now().timestamp();
    let id = record_run(&s, &web1, "success", now - 100, 20, 5).await;
    let r = get(&s, &web1, &format!("{RUNS}/{id}/3")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"resource_detail": {"content_delta": "--- /tmp/file3\n+++ /tmp/.chef-file3\n@@ -0,0 +1 @@\n+hello 3"}})
    );
    for res in ["5", "-1", "x"] {
        let r = get(&s, &web1, &format!("{RUNS}/{id}/{res}")).await;
        assert_eq!(r.status, 404, "{res}");
    }
    let r = get(&s, &web1, &format!("{RUNS}/{}/0", new_run_id())).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn counts_per_bucket_and_status() {
    let s = start().await;
    let (web1, admin) = org_with_node(&s).await;
    // Monday 00:05 and 00:10 (success), 01:10 (failure), Tuesday 00:00, next Monday 12:00.
    for (t, status) in [
        (300, "success"),
        (600, "success"),
        (4200, "failure"),
        (86_400, "success"),
        (7 * 86_400 + 43_200, "success"),
    ] {
        record_run(&s, &web1, status, MONDAY + t, 30, 0).await;
    }
    // A run that never ended counts as started.
    let r = post(&s, &web1, RUNS, &start_body(&new_run_id(), MONDAY + 900)).await;
    assert_eq!(r.status, 201);
    let base = "/organizations/acme/reports/runs/counts";

    let r = get(
        &s,
        &admin,
        &format!(
            "{base}?granularity=hour&{}",
            window(MONDAY, MONDAY + 3 * 3600 - 1)
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["granularity"], "hour");
    assert_eq!(r.body["total"], 4);
    let c = r.body["counts"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!(
        c[0],
        json!({"start": "2026-11-30T00:00:00Z", "total": 3, "started": 1, "success": 2, "failure": 0, "aborted": 0})
    );
    assert_eq!(c[1]["total"], 1);
    assert_eq!(c[1]["failure"], 1);
    assert_eq!(c[2]["total"], 0);

    let r = get(
        &s,
        &admin,
        &format!(
            "{base}?granularity=minute&{}",
            window(MONDAY + 300, MONDAY + 659)
        ),
    )
    .await;
    let c = r.body["counts"].as_array().unwrap();
    assert_eq!(c.len(), 6);
    assert_eq!(c[0]["start"], "2026-11-30T00:05:00Z");
    assert_eq!(c[0]["success"], 1);
    assert_eq!(c[5]["success"], 1);

    let r = get(
        &s,
        &admin,
        &format!(
            "{base}?granularity=day&{}",
            window(MONDAY, MONDAY + 2 * 86_400 - 1)
        ),
    )
    .await;
    let c = r.body["counts"].as_array().unwrap();
    assert_eq!(
        (c[0]["total"].clone(), c[1]["total"].clone()),
        (json!(4), json!(1))
    );

    // Weeks start on Monday: a window from Wednesday still buckets from Monday.
    let r = get(
        &s,
        &admin,
        &format!(
            "{base}?granularity=week&{}",
            window(MONDAY - 5 * 86_400, MONDAY + 14 * 86_400 - 1)
        ),
    )
    .await;
    let c = r.body["counts"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!(c[0]["start"], "2026-11-23T00:00:00Z");
    assert_eq!(c[1]["total"], 5);
    assert_eq!(c[2]["total"], 1);

    // One node's runs.
    let r = get(
        &s,
        &admin,
        &format!(
            "{base}?granularity=week&node=web2&{}",
            window(MONDAY, MONDAY + 1)
        ),
    )
    .await;
    assert_eq!(r.body["total"], 0);

    for q in [
        "",
        "granularity=fortnight",
        "granularity=minute&from=0&until=1000000",
        "granularity=hour&from=x",
    ] {
        let r = get(&s, &admin, &format!("{base}?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert!(r.body["error"][0].is_string());
    }
    // Default windows: 60 minutes, 24 hours, 30 days, 12 weeks, up to now.
    for (g, n) in [("minute", 61), ("hour", 25), ("day", 31), ("week", 13)] {
        let r = get(&s, &admin, &format!("{base}?granularity={g}")).await;
        assert_eq!(r.body["counts"].as_array().unwrap().len(), n, "{g}");
    }
}

#[tokio::test]
async fn durations_histogram() {
    let s = start().await;
    let (web1, admin) = org_with_node(&s).await;
    for (k, (secs, status)) in [
        (5, "success"),
        (45, "success"),
        (50, "failure"),
        (700, "success"),
        (4000, "failure"),
    ]
    .into_iter()
    .enumerate()
    {
        record_run(&s, &web1, status, MONDAY + k as i64 * 10, secs, 0).await;
    }
    let r = post(&s, &web1, RUNS, &start_body(&new_run_id(), MONDAY + 100)).await;
    assert_eq!(r.status, 201);
    let base = "/organizations/acme/reports/runs/durations";
    let r = get(
        &s,
        &admin,
        &format!("{base}?{}", window(MONDAY, MONDAY + 3600)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 5, "unfinished runs have no duration");
    assert_eq!(r.body["min_seconds"], 5);
    assert_eq!(r.body["max_seconds"], 4000);
    assert_eq!(r.body["mean_seconds"], 960.0);
    let d = r.body["durations"].as_array().unwrap();
    assert_eq!(d.len(), 9);
    assert_eq!(
        d[0],
        json!({"min_seconds": 0, "max_seconds": 10, "total": 1, "success": 1, "failure": 0, "aborted": 0})
    );
    assert_eq!(d[2]["min_seconds"], 30);
    assert_eq!(
        (d[2]["success"].clone(), d[2]["failure"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(d[6]["total"], 1);
    assert_eq!(
        d[8],
        json!({"min_seconds": 3600, "max_seconds": null, "total": 1, "success": 0, "failure": 1, "aborted": 0})
    );
    // An empty window.
    let r = get(&s, &admin, &format!("{base}?{}", window(0, 10))).await;
    assert_eq!(r.body["total"], 0);
    assert_eq!(r.body["mean_seconds"], json!(null));
    assert_eq!(
        get(&s, &admin, &format!("{base}?from=10&until=5"))
            .await
            .status,
        400
    );
    // Default window: the last 24 hours.
    assert_eq!(get(&s, &admin, base).await.body["total"], 0);
}

#[tokio::test]
async fn status_reports_live_components() {
    let s = start().await;
    let r = s
        .raw(
            s.client()
                .get(s.url("/reports/status"))
                .header("X-Ops-Reporting-Protocol-Version", PROTOCOL),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"rest_api": "online", "sql_db": "online", "index": "online"})
    );
    // A wrong method is a 405 before anything else.
    let r = s
        .raw(
            s.client()
                .post(s.url("/reports/status"))
                .header("X-Ops-Reporting-Protocol-Version", PROTOCOL),
        )
        .await;
    assert_eq!(r.status, 405);
}

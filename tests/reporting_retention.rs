//! Retention: `Store::purge_report_runs` removes runs (and their resources) that started
//! before a cutoff, and the background task started with the server applies
//! `reporting.retention_days`.

mod common;
mod reporting_common;

use common::TestServer;
use reporting_common::*;

const RUNS: &str = "/organizations/acme/reports/nodes/web1/runs";

#[tokio::test]
async fn purge_removes_old_runs_and_their_resources() {
    let s = start().await;
    let (web1, _) = org_with_node(&s).await;
    let now = chrono::Utc::now().timestamp();
    let old = record_run(&s, &web1, "success", now - 100 * 86_400, 10, 3).await;
    let recent = record_run(&s, &web1, "failure", now - 10 * 86_400, 10, 3).await;
    let store = &s.state.store;
    let org = store.org_by_name("acme").await.unwrap().unwrap();

    assert_eq!(store.purge_report_runs(now - 90 * 86_400).await.unwrap(), 1);
    assert!(store.report_run(&org.id, &old).await.unwrap().is_none());
    assert!(store
        .report_resource(&org.id, &old, 0)
        .await
        .unwrap()
        .is_none());
    assert_eq!(get(&s, &web1, &format!("{RUNS}/{old}")).await.status, 404);
    assert!(store.report_run(&org.id, &recent).await.unwrap().is_some());
    let r = get(&s, &web1, &format!("{RUNS}/{recent}/2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Nothing left to purge.
    assert_eq!(store.purge_report_runs(now - 90 * 86_400).await.unwrap(), 0);
}

#[tokio::test]
async fn background_task_applies_retention_days() {
    let s = TestServer::start_with(|c| {
        c.reporting.retention_days = 30;
        c.reporting.purge_interval_secs = 1;
    })
    .await;
    let (web1, _) = org_with_node(&s).await;
    let now = chrono::Utc::now().timestamp();
    // The task may purge the old run between its start and its end (it runs every
    // second), and the end then records it anew (201): both answers are right.
    let old = new_run_id();
    let base = format!("/organizations/acme/reports/nodes/{}/runs", web1.name);
    let start = now - 31 * 86_400;
    let r = post(&s, &web1, &base, &start_body(&old, start)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let end = end_body("success", start, start + 10, 1);
    let r = post_gzip(&s, &web1, &format!("{base}/{old}"), &end).await;
    assert!(matches!(r.status, 200 | 201), "{}", r.text);
    let kept = record_run(&s, &web1, "success", now - 29 * 86_400, 10, 1).await;
    let store = &s.state.store;
    let org = store.org_by_name("acme").await.unwrap().unwrap();
    // The task runs every second; give it a few passes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while store.report_run(&org.id, &old).await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "old run was not purged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(store.report_run(&org.id, &kept).await.unwrap().is_some());
}

#[test]
fn retention_defaults_to_90_days() {
    let c = brigade::Config::default();
    assert_eq!(c.reporting.retention_days, 90);
}

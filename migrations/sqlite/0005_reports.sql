-- Reporting: one row per chef-client run (start and end posts), and the resources the run
-- updated, in the order the client sent them. Times are Unix seconds (chef-client sends
-- whole seconds), so ranges and time buckets are plain integer arithmetic on both backends.

CREATE TABLE report_runs (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    run_id TEXT NOT NULL,
    node_name TEXT NOT NULL,
    -- started | success | failure | aborted
    status TEXT NOT NULL,
    start_time BIGINT NOT NULL,
    end_time BIGINT,
    total_res_count BIGINT NOT NULL DEFAULT 0,
    updated_res_count BIGINT NOT NULL DEFAULT 0,
    -- The end post's run_list, data and expanded_run_list as one JSON object.
    detail TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, run_id)
);
CREATE INDEX report_runs_org_start ON report_runs(org_id, start_time);
CREATE INDEX report_runs_node_start ON report_runs(org_id, node_name, start_time);
CREATE INDEX report_runs_start ON report_runs(start_time);

-- `seq` is the resource's position in the end post (its RESID in URLs).
CREATE TABLE report_resources (
    org_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (org_id, run_id, seq),
    FOREIGN KEY (org_id, run_id) REFERENCES report_runs(org_id, run_id) ON DELETE CASCADE
);

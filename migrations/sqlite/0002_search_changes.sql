-- The search change log: every searchable write appends a row in its own transaction; the
-- index applies rows in sequence order.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    idx TEXT NOT NULL,
    item TEXT NOT NULL,
    op TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX objects_org_kind ON objects(org_id, kind, bag);

-- Invitations of users to organizations (association requests).
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    requester_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, user_id)
);

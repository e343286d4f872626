-- Identity and authorization: users, organizations, clients, keys, groups, containers, ACLs,
-- and the document table for org objects (nodes, roles, environments, data bags, ...).

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    external_authentication_uid TEXT,
    recovery_authentication_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    superuser BOOLEAN NOT NULL DEFAULT FALSE,
    serialized_object TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE org_users (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_users_user ON org_users(user_id);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    validator BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, name)
);

-- Public keys of users and clients; expires_at NULL means "infinity".
CREATE TABLE keys (
    actor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (actor_id, name)
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (org_id, name)
);

-- member_kind: 'user' | 'client' | 'group'
CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    member_kind TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (group_id, member_kind, member_id)
);
CREATE INDEX group_members_member ON group_members(member_id);

CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (org_id, name)
);

-- One row per (object, permission, member). member_kind: 'actor' | 'group'.
CREATE TABLE acl_entries (
    target_id TEXT NOT NULL,
    perm TEXT NOT NULL,
    member_kind TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (target_id, perm, member_kind, member_id)
);
CREATE INDEX acl_entries_member ON acl_entries(member_id);

-- Org-scoped JSON documents; `bag` is the data bag name for items, '' otherwise.
CREATE TABLE objects (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    bag TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, kind, bag, name)
);

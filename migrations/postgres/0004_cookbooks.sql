-- Cookbook content: uploaded file checksums per org, sandboxes (upload sessions),
-- cookbook versions, which files each version or artifact references, and server-wide
-- settings (the file-URL signing secret, shared by every process on one database).

CREATE TABLE checksums (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    checksum TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, checksum)
);
CREATE INDEX checksums_checksum ON checksums(checksum);

CREATE TABLE sandboxes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    checksums TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- One row per cookbook version; the cookbook itself (its ACL) is an `objects` row of
-- kind 'cookbook' whose id is cookbook_id. body is the document as uploaded (segments or
-- all_files), converted on read.
CREATE TABLE cookbook_versions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    cookbook_id TEXT NOT NULL,
    name TEXT NOT NULL,
    major BIGINT NOT NULL,
    minor BIGINT NOT NULL,
    patch BIGINT NOT NULL,
    frozen BOOLEAN NOT NULL DEFAULT FALSE,
    dependencies TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name, major, minor, patch)
);
CREATE INDEX cookbook_versions_cookbook ON cookbook_versions(cookbook_id);

-- Checksums referenced by a cookbook version or a cookbook artifact version (owner_id).
CREATE TABLE file_refs (
    owner_id TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    checksum TEXT NOT NULL,
    PRIMARY KEY (owner_id, checksum)
);
CREATE INDEX file_refs_org_checksum ON file_refs(org_id, checksum);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
